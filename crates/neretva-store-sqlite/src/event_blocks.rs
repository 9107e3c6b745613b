//! Events' texts (their IntelMQ JSON and raw line) stored a block of a batch's events at a time,
//! compressed with LZ4, instead of in each event's row.
//!
//! The texts are nine tenths of an event's bytes, and the events of one report repeat each
//! other's member names and constant values: a block of 64 Shadowserver events compresses about
//! twelve times, so a batch writes a tenth of the bytes to the WAL and the table, and the event
//! rows left hold only the columns the indexes and filters read. An event row names its block
//! (`events.block`, the `event_blocks` row) and its place in it (`events.slot`).
//!
//! Queries read a text through the SQL function `neretva_event_text(data, slot, part)`
//! (registered on every connection by [`register`]): given a block's stored bytes, it returns
//! the JSON (`part` 0) or the raw line (`part` 1) of the event in `slot`. It keeps the last block
//! it decompressed, so reading a page or scanning for a text decompresses each block once. Rows
//! written before blocks existed keep their texts in the row (`block` NULL): the function gives
//! NULL for them and queries take the row's own text instead. Free-text search asks
//! `neretva_event_contains` instead of copying each JSON out to compare it with `LIKE`.
//!
//! A block, decompressed, is the number of its events (a little-endian `u32`), then for each
//! event the length of its JSON, the JSON, the length of its raw line and the raw line; it is
//! stored as LZ4's block format after its decompressed length (`lz4_flex`'s
//! `compress_prepend_size`).

use std::ops::Range;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::{Connection, Error, types::ValueRef};

/// A block takes at most this many events.
pub(crate) const BLOCK_EVENTS: usize = 64;
/// A block takes no more events once its texts reach this many bytes. Blocks of this size
/// compress to a few kilobytes, within one page, so SQLite hands the function the stored bytes
/// without copying them from overflow pages.
pub(crate) const BLOCK_BYTES: usize = 64 * 1024;
/// The largest decompressed block a reader accepts (SQLite's own limit on a text or blob).
const MAX_DECOMPRESSED: usize = 1_000_000_000;

/// The join that gives each event of `e` its block as `b`.
pub(crate) const BLOCK_JOIN: &str = "LEFT JOIN event_blocks b ON b.id = e.block";

/// A block being filled with the texts of a batch's events.
#[derive(Debug, Default)]
pub(crate) struct BlockBuilder {
    texts: Vec<u8>,
    events: u32,
}

impl BlockBuilder {
    /// Whether the block should take no more events.
    pub(crate) fn is_full(&self) -> bool {
        self.events as usize >= BLOCK_EVENTS || self.texts.len() >= BLOCK_BYTES
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Adds an event's texts and returns its slot. Texts longer than 4 GiB cannot be stored (nor
    /// can SQLite hold them).
    pub(crate) fn push(&mut self, json: &str, raw: &str) -> Result<i64, String> {
        if self.texts.is_empty() {
            self.texts.extend_from_slice(&[0; 4]);
        }
        for text in [json, raw] {
            let length = u32::try_from(text.len()).map_err(|_| format!("a text of {} bytes", text.len()))?;
            self.texts.extend_from_slice(&length.to_le_bytes());
            self.texts.extend_from_slice(text.as_bytes());
        }
        let slot = self.events;
        self.events += 1;
        Ok(i64::from(slot))
    }

    /// The block's stored bytes; the builder is empty again.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        self.texts[..4].copy_from_slice(&self.events.to_le_bytes());
        let data = lz4_flex::block::compress_prepend_size(&self.texts);
        self.texts.clear();
        self.events = 0;
        data
    }
}

/// A decompressed block: its stored bytes (to know it again), its texts one after the other
/// (each checked as UTF-8 once, as it is copied in), and where each event's JSON and raw line
/// are in them.
#[derive(Debug, Default)]
struct Block {
    stored: Vec<u8>,
    decompressed: Vec<u8>,
    texts: String,
    places: Vec<[Range<usize>; 2]>,
}

impl Block {
    /// Decompresses and checks a block's stored bytes.
    fn load(&mut self, stored: &[u8]) -> Result<(), String> {
        self.stored.clear();
        self.texts.clear();
        self.places.clear();
        let Some(size) = stored.get(..4) else {
            return Err(format!("a block of {} bytes", stored.len()));
        };
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        if size > MAX_DECOMPRESSED {
            return Err(format!("a block of {size} bytes decompressed"));
        }
        self.decompressed.clear();
        self.decompressed.resize(size, 0);
        let written = lz4_flex::block::decompress_into(&stored[4..], &mut self.decompressed)
            .map_err(|error| format!("a block that does not decompress: {error}"))?;
        if written != size {
            return Err(format!("a block of {written} bytes where it says {size}"));
        }
        let mut at = 0;
        let mut take = |length: usize| -> Result<Range<usize>, String> {
            let end = at + length;
            if end > size {
                return Err(format!("a block cut short at byte {size} of {end}"));
            }
            let range = at..end;
            at = end;
            Ok(range)
        };
        let bytes = &self.decompressed;
        let count = read_u32(bytes, take(4)?);
        for _ in 0..count {
            let mut place = [0..0, 0..0];
            for range in &mut place {
                let length = take(4)?;
                let text = std::str::from_utf8(&bytes[take(read_u32(bytes, length))?])
                    .map_err(|error| format!("a block whose text is not UTF-8: {error}"))?;
                let start = self.texts.len();
                self.texts.push_str(text);
                *range = start..self.texts.len();
            }
            self.places.push(place);
        }
        if at != size {
            return Err(format!("a block with {} bytes after its {count} events", size - at));
        }
        self.stored.extend_from_slice(stored);
        Ok(())
    }

    fn text(&self, slot: i64, part: i64) -> Result<&str, String> {
        let place = usize::try_from(slot)
            .ok()
            .and_then(|slot| self.places.get(slot))
            .ok_or_else(|| format!("slot {slot} of a block of {} events", self.places.len()))?;
        let range = match part {
            0 => place[0].clone(),
            1 => place[1].clone(),
            _ => return Err(format!("part {part}; 0 is the JSON, 1 the raw line")),
        };
        // Ranges of whole texts, so always within the texts and on character boundaries.
        self.texts.get(range).ok_or_else(|| format!("slot {slot} outside the block's texts"))
    }
}

fn read_u32(bytes: &[u8], range: Range<usize>) -> usize {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[range]);
    u32::from_le_bytes(word) as usize
}

fn failed(function: &str, message: String) -> Error {
    Error::UserFunctionError(format!("{function}: {message}").into())
}

/// Registers `neretva_event_text(data, slot, part)` and `neretva_event_contains(data, slot,
/// needle)` on a connection.
///
/// `neretva_event_contains` says whether the event's JSON holds `needle`, ASCII letters in either
/// case, as `json LIKE '%needle%'` with the wildcards escaped does, but on the block's texts as
/// they are (each block put in lower case once) instead of a copy of each event's JSON.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags =
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_DIRECTONLY;
    let texts = Cache::new("neretva_event_text", false);
    conn.create_scalar_function(texts.function, 3, flags, move |ctx: &mut Context<'_>| {
        let part: i64 = ctx.get(2)?;
        texts.with_event(ctx, |block, slot| Ok(block.text(slot, part)?.to_owned()))
    })?;
    let lower = Cache::new("neretva_event_contains", true);
    conn.create_scalar_function(lower.function, 3, flags, move |ctx: &mut Context<'_>| {
        // The needle in lower case, made once per statement (SQLite keeps it with the argument).
        let needle = ctx.get_or_create_aux(2, |needle| -> rusqlite::Result<_> {
            Ok(memchr::memmem::Finder::new(needle.as_str()?.to_ascii_lowercase().as_bytes()).into_owned())
        })?;
        lower.with_event(ctx, |block, slot| Ok(needle.find(block.text(slot, 0)?.as_bytes()).is_some()))
    })
}

/// The block a function read last, in lower case or as stored. SQLite calls a function on its
/// connection's thread only, so the lock is never contended.
struct Cache {
    /// The function's name, for its errors.
    function: &'static str,
    block: std::sync::Mutex<Block>,
    lower_case: bool,
}

impl Cache {
    fn new(function: &'static str, lower_case: bool) -> Cache {
        Cache { function, block: std::sync::Mutex::new(Block::default()), lower_case }
    }

    /// Calls `answer` with the block of a call (argument 0), decompressed, and the slot
    /// (argument 1); NULL for no block.
    fn with_event<T>(
        &self,
        ctx: &Context<'_>,
        answer: impl FnOnce(&Block, i64) -> Result<T, String>,
    ) -> rusqlite::Result<Option<T>> {
        let stored = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(None),
            ValueRef::Blob(stored) => stored,
            other => return Err(failed(self.function, format!("a block of type {:?}", other.data_type()))),
        };
        let slot: i64 = ctx.get(1)?;
        let mut block = self.block.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The same bytes are the same block: the cache needs no key that could be reused.
        if block.stored.is_empty() || block.stored != stored {
            block.load(stored).map_err(|message| failed(self.function, message))?;
            if self.lower_case {
                // ASCII letters only, so the texts stay UTF-8 and keep their lengths.
                block.texts.make_ascii_lowercase();
            }
        }
        answer(&block, slot).map(Some).map_err(|message| failed(self.function, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(conn: &Connection, data: &[u8], slot: i64, part: i64) -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT neretva_event_text(?1, ?2, ?3)", rusqlite::params![data, slot, part], |row| {
            row.get(0)
        })
    }

    #[test]
    fn a_block_gives_back_each_events_texts() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let mut builder = BlockBuilder::default();
        let texts: Vec<(String, String)> =
            (0..BLOCK_EVENTS).map(|i| (format!("{{\"source.port\": {i}}}"), format!("line {i},ü"))).collect();
        for (i, (json, raw)) in texts.iter().enumerate() {
            assert!(!builder.is_full());
            assert_eq!(builder.push(json, raw).unwrap(), i as i64);
        }
        assert!(builder.is_full());
        let data = builder.finish();
        assert!(builder.is_empty());
        for (i, (json, raw)) in texts.iter().enumerate().rev() {
            assert_eq!(text(&conn, &data, i as i64, 0).unwrap().as_deref(), Some(json.as_str()));
            assert_eq!(text(&conn, &data, i as i64, 1).unwrap().as_deref(), Some(raw.as_str()));
        }
        // Another block in turn, then the first again: the cache follows the bytes.
        builder.push("{}", "").unwrap();
        let other = builder.finish();
        assert_eq!(text(&conn, &other, 0, 0).unwrap().as_deref(), Some("{}"));
        assert_eq!(text(&conn, &other, 0, 1).unwrap().as_deref(), Some(""));
        assert_eq!(text(&conn, &data, 3, 1).unwrap().as_deref(), Some("line 3,ü"));
        let none: Option<String> =
            conn.query_row("SELECT neretva_event_text(NULL, 0, 0)", [], |row| row.get(0)).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn contains_finds_a_text_in_an_events_json_as_like_does() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let mut builder = BlockBuilder::default();
        builder.push("{\"malware.name\": \"Mirai\", \"city\": \"Zürich\"}", "Raw Only").unwrap();
        builder.push("{\"malware.name\": \"emotet\"}", "").unwrap();
        let data = builder.finish();
        let ask = |sql: &str, slot: i64, needle: &str| -> Option<bool> {
            conn.query_row(sql, rusqlite::params![data, slot, needle], |row| row.get(0)).unwrap()
        };
        for (slot, needle, found) in [
            (0, "mirai", true),
            (0, "MIRAI", true),
            (0, "\"malware.name\": \"m", true),
            (0, "zürich", true),
            (0, "ZÜRICH", false),   // only ASCII letters fold, as in LIKE
            (0, "raw only", false), // the raw line is not searched
            (0, "emotet", false),
            (1, "Emotet", true),
            (1, "mirai", false),
            (1, "", true),
        ] {
            let contains = ask("SELECT neretva_event_contains(?1, ?2, ?3)", slot, needle);
            assert_eq!(contains, Some(found), "{needle:?} in slot {slot}");
            let like = ask("SELECT neretva_event_text(?1, ?2, 0) LIKE '%' || ?3 || '%'", slot, needle);
            assert_eq!(like, Some(found), "LIKE on {needle:?} in slot {slot}");
        }
        // The text function on the same connection still gives the texts as stored.
        let text: String =
            conn.query_row("SELECT neretva_event_text(?1, 0, 0)", [&data], |row| row.get(0)).unwrap();
        assert!(text.contains("Mirai"));
        let none: Option<bool> =
            conn.query_row("SELECT neretva_event_contains(NULL, 0, 'x')", [], |row| row.get(0)).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn a_block_fills_up_by_its_bytes_too() {
        let mut builder = BlockBuilder::default();
        let long = "x".repeat(BLOCK_BYTES);
        builder.push(&long, "").unwrap();
        assert!(builder.is_full());
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert_eq!(text(&conn, &builder.finish(), 0, 0).unwrap(), Some(long));
    }

    #[test]
    fn a_damaged_block_is_an_error_that_says_what() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let mut builder = BlockBuilder::default();
        builder.push("{\"a\": 1}", "a").unwrap();
        builder.push("{\"b\": 2}", "b").unwrap();
        let good = builder.finish();
        let error =
            |data: &[u8], slot: i64, part: i64| text(&conn, data, slot, part).unwrap_err().to_string();
        assert!(error(&good, 2, 0).contains("slot 2 of a block of 2 events"), "{}", error(&good, 2, 0));
        assert!(error(&good, -1, 0).contains("slot -1"));
        assert!(error(&good, 0, 2).contains("part 2"));
        assert!(error(&good[..3], 0, 0).contains("a block of 3 bytes"));
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(error(&huge, 0, 0).contains("decompressed"), "{}", error(&huge, 0, 0));
        let mut short = good.clone();
        short.truncate(good.len() - 3);
        assert!(error(&short, 0, 0).contains("neretva_event_text:"), "{}", error(&short, 0, 0));
        // Texts that are not UTF-8, and a count of events the texts do not hold.
        for (texts, expected) in [
            (vec![1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0, 0], "not UTF-8"),
            (vec![2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "cut short"),
            (vec![0, 0, 0, 0, 7], "after its 0 events"),
        ] {
            let data = lz4_flex::block::compress_prepend_size(&texts);
            assert!(error(&data, 0, 0).contains(expected), "{}", error(&data, 0, 0));
        }
        let integer: rusqlite::Result<Option<String>> =
            conn.query_row("SELECT neretva_event_text(7, 0, 0)", [], |row| row.get(0));
        assert!(integer.unwrap_err().to_string().contains("a block of type Integer"));
        // The good block still reads after the damaged ones.
        assert_eq!(text(&conn, &good, 1, 1).unwrap().as_deref(), Some("b"));
    }
}
