//! The loopback HTTP front: authentication, body limits, routing by model, and the few
//! endpoints Claude Code calls.
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use serde_json::{Map, Value, json};

use super::config::ProxyConfig;
use super::errors::ApiError;
use super::providers::{Call, Ctx, Provider};
use crate::secret::Secret;

/// Shared by all handlers.
pub struct AppState {
    pub config: ProxyConfig,
    /// One per `config.models` entry, same order.
    pub providers: Vec<Provider>,
    pub tokens: Vec<Secret>,
    pub ctx: Ctx,
    pub body_limit: usize,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", head(hello))
        .route("/api/hello", head(hello))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(models))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Claude Code's connection warm-up probe carries no credentials; it gets an empty 200.
async fn hello() -> StatusCode {
    StatusCode::OK
}

/// Compares in constant time (`subtle`), so the time taken does not reveal a matching prefix.
fn same_token(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    given.ct_eq(expected).into()
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get("x-api-key").map(|v| v.as_bytes()).or_else(|| {
        let auth = headers.get("authorization")?.as_bytes();
        let (scheme, rest) = auth.split_at(auth.len().min(7));
        scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
    });
    match given {
        Some(g)
            if state
                .tokens
                .iter()
                .any(|t| same_token(g, t.expose().as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(ApiError::unauthorized()),
    }
}

/// Reads and parses the JSON body, within the size limit.
async fn read_json(state: &AppState, body: Body) -> Result<Map<String, Value>, ApiError> {
    let bytes = axum::body::to_bytes(body, state.body_limit)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than the proxy's limit of {} bytes",
                    state.body_limit
                ),
            )
        })?;
    serde_json::from_slice::<Map<String, Value>>(&bytes)
        .map_err(|e| ApiError::invalid(format!("request body is not a valid JSON object: {e}")))
}

fn route_call(
    state: &AppState,
    headers: HeaderMap,
    body: Map<String, Value>,
) -> Result<(&Provider, Call), ApiError> {
    let requested = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("model: field required"))?;
    let index = state
        .config
        .models
        .iter()
        .position(|m| m.alias == requested)
        .or_else(|| {
            let routed = state.config.route(requested)?;
            state
                .config
                .models
                .iter()
                .position(|m| std::ptr::eq(m, routed))
        })
        .ok_or_else(|| {
            let known: Vec<&str> = state
                .config
                .models
                .iter()
                .map(|m| m.alias.as_str())
                .collect();
            ApiError::not_found(format!(
                "model: {requested} is not configured on this proxy (known: {})",
                known.join(", ")
            ))
        })?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let alias = state.config.models[index].alias.clone();
    Ok((
        &state.providers[index],
        Call {
            body,
            stream,
            headers,
            alias,
        },
    ))
}

async fn messages(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        authorize(&state, &headers)?;
        let body = read_json(&state, body).await?;
        let (provider, call) = route_call(&state, headers, body)?;
        if let Err((used, budget)) = state.ctx.meter.admit() {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("budget exhausted: this run's token budget of {budget} is spent ({used} tokens used); the coworker proxy refuses further model calls"),
            );
            e.should_retry = Some(false);
            return Err(e);
        }
        provider.messages(&state.ctx, call).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn count_tokens(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        authorize(&state, &headers)?;
        let body = read_json(&state, body).await?;
        let (provider, call) = route_call(&state, headers, body)?;
        provider.count_tokens(&state.ctx, call).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn models(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    let data: Vec<Value> = state
        .config
        .models
        .iter()
        .map(|m| json!({"type": "model", "id": m.alias, "display_name": m.alias, "created_at": "2025-01-01T00:00:00Z"}))
        .collect();
    let first = state.config.models.first().map(|m| m.alias.clone());
    let last = state.config.models.last().map(|m| m.alias.clone());
    axum::Json(json!({"data": data, "has_more": false, "first_id": first, "last_id": last}))
        .into_response()
}

async fn not_found(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    ApiError::not_found("this path is not served by the coworker proxy").into_response()
}

async fn method_not_allowed() -> Response {
    let mut e = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    );
    e.kind = "invalid_request_error".into();
    e.should_retry = Some(false);
    e.into_response()
}

#[cfg(test)]
mod tests {
    use super::same_token;

    #[test]
    fn token_comparison() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abd", b"abc"));
        assert!(!same_token(b"ab", b"abc"));
    }
}
