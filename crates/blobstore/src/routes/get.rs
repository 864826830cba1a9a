//! `GET` and `HEAD /v1/blobs/{id}` with a `get` capability. GET streams the
//! blob (or one range of it, for resumable downloads: 206 with
//! `Content-Range`, 416 outside the blob); HEAD sends the same headers
//! without the body. `ETag` is the quoted SHA-256; a matching
//! `If-None-Match` gets 304.

use actix_web::body::SizedStream;
use actix_web::http::Method;
use actix_web::http::header::{
    ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE,
};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use passerelle_auth::BlobOp;

use crate::authz;
use crate::error::BlobError;
use crate::id::BlobId;
use crate::range::{RangeAsk, resolve};
use crate::state::AppState;

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BlobError> {
    let id = BlobId::parse(&path)?;
    authz::check(&req, &state.verifier, &id, BlobOp::Get)?;
    let head = req.method() == Method::HEAD;
    let blob = state
        .storage
        .open_blob(&id, !head)
        .await?
        .ok_or(BlobError::NotFound)?;
    let meta = blob.meta.clone();
    let etag = format!("\"{}\"", meta.sha256.as_str());
    if if_none_match(&req, meta.sha256.as_str()) {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, etag))
            .finish());
    }
    let mut resp = HttpResponse::Ok();
    resp.insert_header((CONTENT_TYPE, "application/octet-stream"))
        .insert_header((ETAG, etag))
        .insert_header((ACCEPT_RANGES, "bytes"));
    if head {
        let none = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
        return Ok(resp.body(SizedStream::new(meta.size, none)));
    }
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok());
    let (start, end) = match resolve(range, meta.size) {
        RangeAsk::Whole => (0, meta.size),
        RangeAsk::Part { start, end } => {
            resp.status(actix_web::http::StatusCode::PARTIAL_CONTENT)
                .insert_header((
                    CONTENT_RANGE,
                    format!("bytes {start}-{}/{}", end - 1, meta.size),
                ));
            (start, end)
        }
        RangeAsk::Unsatisfiable => return Err(BlobError::RangeNotSatisfiable(meta.size)),
    };
    let stream = state
        .storage
        .read(&id, blob, start, end)
        .await?
        .inspect(|chunk| {
            if let Ok(c) = chunk {
                metrics::counter!("blobstore_bytes_out_total").increment(c.len() as u64);
            }
        });
    tracing::debug!(blob = %id, start, end, "sending");
    Ok(resp.body(SizedStream::new(end - start, stream)))
}

/// Whether `If-None-Match` names this blob's ETag (or `*`).
fn if_none_match(req: &HttpRequest, sha256: &str) -> bool {
    req.headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t == sha256)
}
