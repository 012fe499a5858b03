//! SAP AI Core (placeholder, filled in next).
use axum::response::Response;

use super::{Call, Ctx};
use crate::proxy::config::SapUpstream;
use crate::proxy::errors::ApiError;

pub struct SapProvider {
    _upstream: SapUpstream,
}

impl SapProvider {
    pub fn new(upstream: SapUpstream) -> Self {
        SapProvider {
            _upstream: upstream,
        }
    }

    pub async fn messages(&self, _ctx: &Ctx, _call: Call) -> Result<Response, ApiError> {
        Err(ApiError::not_found("not yet"))
    }
}
