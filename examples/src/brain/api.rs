//! The HTTP API every node serves, guarded by the admin token (`Authorization: Bearer`):
//!
//! - `POST /api/commands` `{"agent_id", "action", "target", "parameters"}` → `202
//!   {"command_id"}`: stored as pending, sent by the node holding the agent;
//! - `GET /api/commands/{id}` → `{"status", "result", "error"}`, the same on every node;
//! - `GET /api/agents` → the agents connected to some node, with that node;
//! - `GET /api/events?agent_id=ID` → `{"count", "events"}` (at most 10,000 listed);
//! - `POST /api/agents/{id}/revoke`: its connection closes with 4003, wherever it is.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::cluster::CommandRecord;
use super::{bearer, query_param, same_token, Shared};

/// The largest request body taken (a command's target and parameters).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest action name (the v2 `command` payload's own cap).
const MAX_ACTION_CHARS: usize = 80;

/// The API's routes, each behind the admin token.
pub(super) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/commands", post(create_command))
        .route("/api/commands/{id}", get(command))
        .route("/api/agents", get(agents))
        .route("/api/events", get(events))
        .route("/api/agents/{id}/revoke", post(revoke))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(shared),
            admin_only,
        ))
}

/// Lets a request through only with the admin token, compared in constant time.
async fn admin_only(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let allowed = bearer(request.headers())
        .is_some_and(|token| same_token(token, &shared.options.admin_token));
    if allowed {
        next.run(request).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// An answer with a JSON error message.
fn refuse(status: StatusCode, error: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

/// Whether `agent_id` is one of the brain's agents.
fn known_agent(shared: &Shared, agent_id: &str) -> bool {
    shared.options.agents.iter().any(|a| a.agent_id == agent_id)
}

#[derive(Deserialize)]
struct NewCommand {
    agent_id: String,
    action: String,
    #[serde(default)]
    target: serde_json::Map<String, Value>,
    #[serde(default)]
    parameters: serde_json::Map<String, Value>,
}

async fn create_command(
    State(shared): State<Arc<Shared>>,
    Json(new): Json<NewCommand>,
) -> Response {
    if !known_agent(&shared, &new.agent_id) {
        return refuse(StatusCode::NOT_FOUND, "no such agent");
    }
    if new.action.is_empty() || new.action.chars().count() > MAX_ACTION_CHARS {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "action must be 1 to 80 characters",
        );
    }
    let record = CommandRecord {
        command_id: uuid::Uuid::new_v4().to_string(),
        agent_id: new.agent_id,
        action: new.action,
        target: Value::Object(new.target),
        parameters: Value::Object(new.parameters),
        status: "pending".into(),
        result: None,
        error: None,
    };
    let command_id = record.command_id.clone();
    match shared.cluster.create_command(record).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(json!({ "command_id": command_id })),
        )
            .into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn command(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.cluster.command(&id).await {
        Ok(Some(record)) => Json(json!({
            "command_id": record.command_id,
            "agent_id": record.agent_id,
            "status": record.status,
            "result": record.result,
            "error": record.error,
        }))
        .into_response(),
        Ok(None) => refuse(StatusCode::NOT_FOUND, "no such command"),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn agents(State(shared): State<Arc<Shared>>) -> Response {
    match shared.cluster.online().await {
        Ok(online) => {
            let agents: Vec<Value> = online
                .into_iter()
                .map(|(agent_id, node)| json!({ "agent_id": agent_id, "node": node }))
                .collect();
            Json(json!({ "agents": agents })).into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn events(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let Some(agent_id) = query_param(&uri, "agent_id") else {
        return refuse(StatusCode::BAD_REQUEST, "agent_id is required");
    };
    match shared.cluster.events(&agent_id).await {
        Ok((count, events)) => Json(json!({ "count": count, "events": events })).into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn revoke(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if !known_agent(&shared, &id) {
        return refuse(StatusCode::NOT_FOUND, "no such agent");
    }
    match shared.cluster.revoke(&id).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({ "revoked": id }))).into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}
