//! Inserts of many rows by one statement: `INSERT … VALUES (…), (…), …` of a fixed number of
//! rows, and of one row for the rest. SQLite then opens the table's and its indexes' cursors
//! once per statement instead of once per row, and puts an entry that goes at the end of a
//! b-tree (an ordered key: a rowid, an id in time order, a feed's newest event) there without a
//! search from the root; 100,000 events went in about a sixth faster than one row at a time.
//!
//! A statement of many rows that may stop half-way on an error (SQLite's default `ABORT`)
//! makes SQLite keep a statement journal, a copy of every page the statement changes, so it can
//! undo the statement alone: with a few random-order indexes that is most of the pages an
//! insert touches (gigabytes for 100,000 events). So the statements are `INSERT OR FAIL`,
//! which leaves the rows before a failing one to the caller's transaction, which the error
//! rolls back; and a table whose pages matter gets no given rowid (a given rowid may abort on
//! its type), its rows numbered by SQLite.

use rusqlite::{CachedStatement, Connection, ToSql};

use neretva_store::StoreError;

use crate::codec::Result;

/// Binds rows one at a time and runs the inserts as rows fill them.
pub(crate) struct RowsInsert<'c> {
    many: CachedStatement<'c>,
    one: CachedStatement<'c>,
    rows: usize,
    params: usize,
    /// The rows from here on go in one at a time: too few for a statement of many.
    tail: usize,
    /// The rows bound so far, of the `total` announced.
    bound: usize,
    total: usize,
}

impl<'c> RowsInsert<'c> {
    /// An insert of `total` rows into `target` (`table (columns)`), each row `row` (a
    /// parenthesised list of `params` placeholders and constants), `rows` rows a statement.
    pub(crate) fn new(
        conn: &'c Connection,
        target: &str,
        row: &str,
        params: usize,
        rows: usize,
        total: usize,
    ) -> Result<RowsInsert<'c>> {
        let sql = |rows: usize| format!("INSERT OR FAIL INTO {target} VALUES {}", vec![row; rows].join(", "));
        Ok(RowsInsert {
            many: conn.prepare_cached(&sql(rows))?,
            one: conn.prepare_cached(&sql(1))?,
            rows,
            params,
            tail: total - total % rows,
            bound: 0,
            total,
        })
    }

    /// Binds the next row's values (as many as the row's placeholders) and inserts when a
    /// statement is full.
    pub(crate) fn push(&mut self, values: &[&dyn ToSql]) -> Result<()> {
        debug_assert_eq!(values.len(), self.params);
        let (statement, first, full) = match self.bound < self.tail {
            true => (
                &mut self.many,
                self.bound % self.rows * self.params + 1,
                self.bound % self.rows == self.rows - 1,
            ),
            false => (&mut self.one, 1, true),
        };
        for (offset, value) in values.iter().enumerate() {
            statement.raw_bind_parameter(first + offset, value)?;
        }
        if full {
            statement.raw_execute()?;
        }
        self.bound += 1;
        Ok(())
    }

    /// Ends the insert: an error if fewer or more rows came than announced (a statement of
    /// many rows not filled would never have run).
    pub(crate) fn finish(self) -> Result<()> {
        if self.bound != self.total {
            let (bound, total) = (self.bound, self.total);
            return Err(StoreError::Backend(format!("{bound} rows pushed of the {total} announced")).into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_by_full_statements_then_one_by_one() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL UNIQUE, s TEXT, c TEXT) STRICT").unwrap();
        for total in [0, 1, 3, 4, 5, 11] {
            conn.execute("DELETE FROM t", []).unwrap();
            let mut insert = RowsInsert::new(&conn, "t (n, s, c)", "(?, ?, 'k')", 2, 4, total).unwrap();
            for n in 0..total {
                let n = n as i64;
                insert.push(&[&n, &format!("row {n}")]).unwrap();
            }
            insert.finish().unwrap();
            let rows: Vec<(i64, String, String)> = conn
                .prepare("SELECT n, s, c FROM t ORDER BY rowid")
                .unwrap()
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let expected: Vec<(i64, String, String)> =
                (0..total as i64).map(|n| (n, format!("row {n}"), "k".to_owned())).collect();
            assert_eq!(rows, expected, "{total} rows");
        }
    }

    #[test]
    fn rows_fewer_or_more_than_announced_are_an_error() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL) STRICT").unwrap();
        for pushed in [3i64, 5] {
            let mut insert = RowsInsert::new(&conn, "t (n)", "(?)", 1, 4, 4).unwrap();
            for n in 0..pushed {
                insert.push(&[&n]).unwrap();
            }
            let error = insert.finish().unwrap_err();
            assert!(error.0.to_string().contains(&format!("{pushed} rows pushed of the 4")), "{}", error.0);
        }
    }

    #[test]
    fn a_failing_row_fails_its_statement_and_keeps_the_rows_before_it() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL UNIQUE) STRICT").unwrap();
        let mut insert = RowsInsert::new(&conn, "t (n)", "(?)", 1, 4, 8).unwrap();
        for n in [1i64, 2, 3, 4, 5, 6, 7] {
            insert.push(&[&n]).unwrap();
        }
        let error = insert.push(&[&2i64]).unwrap_err();
        assert!(error.0.to_string().contains("UNIQUE"), "{}", error.0);
        let count: i64 = conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0)).unwrap();
        // The first statement's four rows, and of the failing one the three before the repeat.
        assert_eq!(count, 7);
    }
}
