//! The dashboard (`/`): events per day by RSIT type (an SVG chart with a table), the most
//! affected organisations and sectors, open incidents by status, NIS2 deadlines due and
//! overdue, and feed health.
//!
//! Every figure is bounded: event counts cover the last [`WINDOW_DAYS`] days, exactly, from the
//! store's rollups (a read of days × types × organisations rows, whatever the number of
//! events), incidents at most [`INCIDENT_SCAN`] open ones, feed health the newest reports.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::{Value, context};
use neretva_incident::deadline::ObligationState;
use neretva_incident::workflow::Status;
use neretva_store::StoreError;
use neretva_store::feeds::EventCountQuery;
use neretva_store::incidents::{IncidentOrder, IncidentQuery};
use time::OffsetDateTime;

use crate::AppState;
use crate::api::events::event_scope;
use crate::api::incidents::{due_items, scope as incident_scope, visible_page};
use crate::web::svg::{self, Series};
use crate::web::{WebUser, feeds, short_time, t};

/// The days the event figures cover, today included.
pub(crate) const WINDOW_DAYS: i64 = 30;
/// The most open incidents counted.
pub(crate) const INCIDENT_SCAN: usize = 1_000;
/// The most deadlines listed.
const DEADLINES_SHOWN: usize = 20;
/// The most types the chart colours apart; the rest are "other types".
const CHART_TYPES: usize = svg::MAX_SERIES - 1;
/// Rows of the organisation and sector tables.
const TOP: usize = 10;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(page))
}

fn day_label(day: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(day * 86_400) {
        Ok(at) => format!("{:02}-{:02}", u8::from(at.month()), at.day()),
        Err(_) => day.to_string(),
    }
}

async fn page(State(state): State<AppState>, web: WebUser) -> Response {
    match render(&state, &web).await {
        Ok(response) => response,
        Err(error) => web.internal(&error),
    }
}

async fn render(state: &AppState, web: &WebUser) -> Result<Response, StoreError> {
    let language = web.language;
    let now = OffsetDateTime::now_utc();
    let today = now.unix_timestamp().div_euclid(86_400);
    let first_day = today - (WINDOW_DAYS - 1);
    let since = OffsetDateTime::from_unix_timestamp(first_day * 86_400).unwrap_or(now);
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = web.principal();
    let auth = web.auth();
    let store = state.store();

    // Events: the rollups of the caller's organisations (all events for the CERT's staff).
    let org_ids = event_scope(&registry, &auth);
    let counts = store.event_counts(&EventCountQuery { since, org_ids }).await?;
    let days: Vec<i64> = (first_day..=today).collect();
    let mut per_type: BTreeMap<Option<String>, Vec<u64>> = BTreeMap::new();
    for count in &counts.by_day {
        if let Some(index) = days.iter().position(|day| *day == count.day) {
            let values =
                per_type.entry(count.classification_type.clone()).or_insert_with(|| vec![0; days.len()]);
            values[index] += count.events;
        }
    }
    let mut ranked: Vec<(Option<String>, Vec<u64>)> = per_type.into_iter().collect();
    ranked.sort_by(|a, b| b.1.iter().sum::<u64>().cmp(&a.1.iter().sum::<u64>()).then(a.0.cmp(&b.0)));
    let mut series: Vec<Series> = Vec::new();
    let mut other = vec![0u64; days.len()];
    for (index, (kind, values)) in ranked.into_iter().enumerate() {
        if index < CHART_TYPES {
            let name = kind.unwrap_or_else(|| t(language, "dashboard.chart.untyped"));
            series.push(Series { name, values });
        } else {
            other.iter_mut().zip(values).for_each(|(sum, value)| *sum += value);
        }
    }
    if other.iter().any(|value| *value > 0) {
        series.push(Series { name: t(language, "dashboard.chart.other"), values: other });
    }
    let labels: Vec<String> = days.iter().map(|day| day_label(*day)).collect();
    let total_events: u64 = series.iter().flat_map(|s| s.values.iter()).sum();
    let chart = (total_events > 0).then(|| {
        svg::stacked_bars(
            "events-chart",
            &t(language, "dashboard.chart.title"),
            &t(language, "dashboard.chart.desc"),
            &labels,
            &series,
        )
    });
    let legend: Vec<Value> = series
        .iter()
        .enumerate()
        .map(
            |(index, s)| context! { name => &s.name, swatch => index, total => s.values.iter().sum::<u64>() },
        )
        .collect();
    let table_rows: Vec<Value> = days
        .iter()
        .enumerate()
        .filter(|(index, _)| series.iter().any(|s| s.values[*index] > 0))
        .map(|(index, day)| {
            let values: Vec<u64> = series.iter().map(|s| s.values[index]).collect();
            context! { day => day_label(*day), total => values.iter().sum::<u64>(), values => values }
        })
        .collect();

    // Organisations and sectors, among those the caller may see.
    let visible_orgs: Vec<(String, Option<String>, u64)> = counts
        .by_org
        .iter()
        .filter(|(org, _)| registry.may_see_org(&principal, *org))
        .filter_map(|(org, events)| {
            let organisation = registry.orgs.get(org)?;
            Some((organisation.fields.name.clone(), organisation.fields.sector.clone(), *events))
        })
        .collect();
    let top_orgs: Vec<Value> = visible_orgs
        .iter()
        .take(TOP)
        .map(|(name, _, events)| context! { name => name, events => events })
        .collect();
    let mut sectors: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for (_, sector, events) in &visible_orgs {
        *sectors.entry(sector.clone()).or_default() += events;
    }
    let mut sectors: Vec<(Option<String>, u64)> = sectors.into_iter().collect();
    sectors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_sectors: Vec<Value> = sectors
        .iter()
        .take(TOP)
        .map(|(sector, events)| {
            let name = match sector.as_deref().filter(|s| neretva_model::org::sector(s).is_some()) {
                Some(slug) => t(language, &format!("common.sectors.{slug}")),
                None => t(language, "common.sectors.none"),
            };
            context! { name => name, events => events }
        })
        .collect();

    // Open incidents by status, and the deadlines of the visible ones.
    let open = IncidentQuery {
        statuses: vec![Status::New, Status::Triage, Status::InProgress],
        exclude_merged: true,
        scope: incident_scope(&registry, &web.user),
        order: IncidentOrder::Queue,
        ..IncidentQuery::default()
    };
    let (incidents, more) = visible_page(state, &registry, &principal, open, INCIDENT_SCAN)
        .await
        .map_err(|error| StoreError::Backend(error.message))?;
    let by_status: Vec<Value> = [Status::New, Status::Triage, Status::InProgress]
        .into_iter()
        .map(|status| {
            let count = incidents.iter().filter(|stored| stored.incident.status == status).count();
            context! {
                status => t(language, &format!("dashboard.statuses.{}", status.as_str())),
                count => count,
            }
        })
        .collect();
    let config = state.config().deadlines;
    let store_now = neretva_store::encode::now();
    let horizon = store_now + time::Duration::minutes(i64::from(config.due_soon_minutes));
    let due = due_items(&incidents, &config, store_now, horizon, None);
    let overdue = due.iter().filter(|due| due.obligation.state == ObligationState::Overdue).count();
    let deadlines: Vec<Value> = due
        .iter()
        .take(DEADLINES_SHOWN)
        .map(|due| {
            let item = &due.item;
            let state_slug = due.obligation.state.to_string();
            context! {
                incident_id => item.incident_id.to_string(),
                title => &item.title,
                kind => t(language, &format!("dashboard.deadlines.kinds.{}", item.obligation.kind)),
                basis => &item.obligation.basis,
                owed_by => t(language, &format!("dashboard.deadlines.owed.{}", item.obligation.owed_by)),
                due_at => short_time(due.obligation.due_at),
                state => t(language, &format!("dashboard.deadlines.states.{state_slug}")),
                overdue => due.obligation.state == ObligationState::Overdue,
            }
        })
        .collect();

    // Feed health, for the CERT's staff (who alone see feed reports).
    let feed_health =
        if web.user.is_operator_staff() { Some(feeds::health(state.store(), language).await?) } else { None };

    let context = context! {
        window => t_window(language, since),
        restricted => !web.user.is_operator_staff(),
        total_events => total_events,
        organisations_affected => visible_orgs.len(),
        chart => chart.map(Value::from_safe_string),
        legend => legend,
        series_names => series.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        table_rows => table_rows,
        top_orgs => top_orgs,
        top_sectors => top_sectors,
        by_status => by_status,
        open_incidents => incidents.len(),
        incidents_capped => more.is_some(),
        incident_scan => INCIDENT_SCAN,
        deadlines => deadlines,
        deadlines_total => due.len(),
        deadlines_shown => DEADLINES_SHOWN,
        overdue => overdue,
        feed_health => feed_health,
        shows_incidents => web.user.is_operator_staff() || web.user.role == neretva_model::user::Role::Authority
            || !incidents.is_empty(),
    };
    Ok(web.render("web/dashboard/index.html", context))
}

fn t_window(language: neretva_model::contact::Language, since: OffsetDateTime) -> String {
    let since = format!("{:04}-{:02}-{:02}", since.year(), u8::from(since.month()), since.day());
    crate::web::texts::texts().get(language, "dashboard.window", Some(WINDOW_DAYS), &[("since", since)])
}
