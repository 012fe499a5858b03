//! OpenAI (placeholder).
use axum::response::Response;

use super::{Call, Ctx};
use crate::proxy::config::HttpUpstream;
use crate::proxy::errors::ApiError;

pub struct OpenAiProvider {
    _upstream: HttpUpstream,
}

impl OpenAiProvider {
    pub fn new(upstream: HttpUpstream) -> Self {
        OpenAiProvider {
            _upstream: upstream,
        }
    }

    pub async fn messages(&self, _ctx: &Ctx, _call: Call) -> Result<Response, ApiError> {
        Err(ApiError::not_found("not yet"))
    }
}
