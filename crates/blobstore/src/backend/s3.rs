//! The S3-compatible backend, on `object_store`'s S3 client (SigV4,
//! custom endpoints, path-style addressing, retries).
//!
//! A blob is the object `<prefix><id>`; its SHA-256 rides along as object
//! metadata (`x-amz-meta-sha256`), its size is the object's. Uploads up to
//! `part_bytes` are checked in memory and stored with one conditional PUT
//! (`If-None-Match: *`), so an existing blob is never replaced. Larger ones
//! go up as a multipart upload, one part in memory at a time; the object
//! appears only when the upload is completed, which happens only after the
//! digest and length check (otherwise the upload is aborted). S3 cannot make
//! that completion conditional through `object_store`, so create-only is
//! checked before the body is read and again just before completing: two
//! uploads of the same id racing within that window could both complete
//! (both passed the same capability's checks). Configure a lifecycle rule
//! that aborts incomplete multipart uploads after a day, for uploads a crash
//! left behind.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, MultipartUpload, ObjectStore,
    ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use secrecy::ExposeSecret;

use super::{BlobMeta, BodyStream, ByteStream, Upload, check_upload, take_chunk};
use crate::config::S3Settings;
use crate::digest::{Hasher, Sha256Hex};
use crate::error::BlobError;
use crate::id::BlobId;

/// The metadata key of a blob's digest (`x-amz-meta-sha256`).
const SHA256_KEY: &str = "sha256";
/// S3's smallest multipart part (except the last).
const MIN_PART: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct S3Store {
    store: Arc<AmazonS3>,
    prefix: String,
    part_bytes: usize,
}

impl S3Store {
    pub fn open(settings: &S3Settings) -> Result<Self, BlobError> {
        if settings.bucket.trim().is_empty() {
            return Err(BlobError::Internal("storage.s3.bucket is required".into()));
        }
        let mut builder = AmazonS3Builder::new()
            .with_region(&settings.region)
            .with_bucket_name(&settings.bucket)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            })
            .with_client_options(
                // Downloads and uploads of large blobs over slow links take
                // as long as they take: no overall timeout, only on connect.
                ClientOptions::new()
                    .with_timeout_disabled()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_allow_http(settings.endpoint.starts_with("http://")),
            );
        if !settings.endpoint.trim().is_empty() {
            builder = builder.with_endpoint(settings.endpoint.trim());
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key.expose_secret());
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        let store = builder
            .build()
            .map_err(|e| BlobError::Internal(format!("storage.s3: {e}")))?;
        let prefix = settings.prefix.trim_matches('/');
        Ok(Self {
            store: Arc::new(store),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            part_bytes: settings.part_bytes.max(MIN_PART),
        })
    }

    fn path(&self, id: &BlobId) -> Path {
        Path::from(format!("{}{}", self.prefix, id))
    }

    pub async fn meta(&self, id: &BlobId) -> Result<Option<BlobMeta>, BlobError> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&self.path(id), options).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        let sha256 = result
            .attributes
            .get(&Attribute::Metadata(SHA256_KEY.into()))
            .and_then(|v| Sha256Hex::parse(v.as_ref()))
            .ok_or_else(|| BlobError::Internal(format!("blob {id}: object without a sha256")))?;
        Ok(Some(BlobMeta {
            size: result.meta.size,
            sha256,
        }))
    }

    async fn exists(&self, id: &BlobId) -> Result<bool, BlobError> {
        match self.store.head(&self.path(id)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn attributes(upload: &Upload) -> Attributes {
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::Metadata(SHA256_KEY.into()),
            upload.sha256.as_str().to_owned().into(),
        );
        attributes.insert(Attribute::ContentType, "application/octet-stream".into());
        attributes
    }

    pub async fn put(&self, upload: &Upload, body: impl BodyStream) -> Result<(), BlobError> {
        if upload.len <= self.part_bytes as u64 {
            self.put_single(upload, body).await
        } else {
            self.put_multipart(upload, body).await
        }
    }

    async fn put_single(
        &self,
        upload: &Upload,
        mut body: impl BodyStream,
    ) -> Result<(), BlobError> {
        let capacity = usize::try_from(upload.len).unwrap_or(self.part_bytes);
        let mut buf = BytesMut::with_capacity(capacity);
        let mut hasher = Hasher::default();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            take_chunk(&mut hasher, &chunk, upload)?;
            buf.extend_from_slice(&chunk);
        }
        check_upload(hasher, upload)?;
        let options = PutOptions {
            mode: PutMode::Create,
            attributes: Self::attributes(upload),
            ..PutOptions::default()
        };
        let payload = PutPayload::from_bytes(buf.freeze());
        match self
            .store
            .put_opts(&self.path(&upload.id), payload, options)
            .await
        {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => Err(BlobError::Exists),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put_multipart(&self, upload: &Upload, body: impl BodyStream) -> Result<(), BlobError> {
        let options = PutMultipartOptions {
            attributes: Self::attributes(upload),
            ..PutMultipartOptions::default()
        };
        let path = self.path(&upload.id);
        let mut parts = self
            .store
            .put_multipart_opts(&path, options)
            .await
            .map_err(unavailable)?;
        let result = self.send_parts(upload, body, parts.as_mut()).await;
        let result = match result {
            Ok(()) => parts.complete().await.map(|_| ()).map_err(unavailable),
            Err(e) => Err(e),
        };
        if result.is_err()
            && let Err(e) = parts.abort().await
        {
            tracing::warn!(blob = %upload.id, error = %e, "could not abort a multipart upload");
        }
        result
    }

    /// Streams the body as parts; Ok only if every byte arrived, with the
    /// announced digest, and the id is still free.
    async fn send_parts(
        &self,
        upload: &Upload,
        mut body: impl BodyStream,
        parts: &mut dyn MultipartUpload,
    ) -> Result<(), BlobError> {
        let mut buf = BytesMut::with_capacity(self.part_bytes);
        let mut hasher = Hasher::default();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            take_chunk(&mut hasher, &chunk, upload)?;
            buf.extend_from_slice(&chunk);
            while buf.len() >= self.part_bytes {
                let part = buf.split_to(self.part_bytes).freeze();
                parts.put_part(part.into()).await.map_err(unavailable)?;
            }
        }
        check_upload(hasher, upload)?;
        if !buf.is_empty() {
            parts
                .put_part(buf.freeze().into())
                .await
                .map_err(unavailable)?;
        }
        if self.exists(&upload.id).await? {
            return Err(BlobError::Exists);
        }
        Ok(())
    }

    pub async fn read(&self, id: &BlobId, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(start..end)),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&self.path(id), options).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => return Err(unavailable(e)),
        };
        Ok(Box::pin(
            result.into_stream().map_err(std::io::Error::other),
        ))
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        match self.store.delete(&self.path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(e: object_store::Error) -> BlobError {
    BlobError::Unavailable(format!("s3: {e}"))
}
