//! `POST /v1/contacts`: add a user to the caller's contacts.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{AddContactRequest, Contact, ErrorBody};
use passerelle_domain::{UserId, Username, Viewer, profile_visible};
use passerelle_store::conversations;
use passerelle_store::social::{self, Listed};
use passerelle_store::streams::StreamEvent;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::presence::PairChange;
use crate::routes::conversations::{atomically, publish};
use crate::routes::message_requests::accept_now;
use crate::state::AppState;

enum Target {
    Id(UserId),
    Username(Username),
}

enum Outcome {
    Added(Listed, Vec<StreamEvent>),
    Already(Listed, Vec<StreamEvent>),
    Missing,
    Yourself,
}

/// Add a contact by exactly one of `username` or `userId`: 201 when added,
/// 200 when it already was one. By username, only users whose profile the
/// caller may see are found. Counts against the lookup limit. A message
/// request from that user to the caller is accepted with it.
#[utoipa::path(
    post, path = "/v1/contacts", operation_id = "add_contact", tag = "social",
    security(("bearer" = [])),
    request_body = AddContactRequest,
    responses(
        (status = 201, description = "Added", body = Contact),
        (status = 200, description = "Already a contact", body = Contact),
        (status = 404, description = "No such user visible to the caller, or a user who blocked the caller: the same answer (`not_found`)", body = ErrorBody),
        (status = 422, description = "Neither or both of `username` and `userId`, an invalid username, or the caller themself (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many lookups (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: web::Json<AddContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let target = match (body.username, body.user_id) {
        (Some(name), None) => Target::Username(Username::parse(&name)?),
        (None, Some(id)) => Target::Id(UserId(id)),
        _ => {
            return Err(ApiError::Validation(
                "give exactly one of `username` and `userId`".into(),
            ));
        }
    };
    crate::routes::users::throttle_lookup(&state, &req, Some(&caller)).await?;
    let me = caller.user_id;
    let now = passerelle_store::now();
    let outcome = atomically(&state, move |conn| {
        let (profile, by_username) = match &target {
            Target::Id(id) => (social::profile_by_id(conn, *id)?, false),
            Target::Username(name) => (
                social::lookup(conn, name.as_str(), None)?.map(|f| f.profile),
                true,
            ),
        };
        let Some(profile) = profile else {
            return Ok(Outcome::Missing);
        };
        let them = profile.user_id;
        if them == me {
            return Ok(Outcome::Yourself);
        }
        // `a` = the user being added, `b` = the caller.
        let relation = social::relation(conn, them, me)?;
        // Already a contact: say so before anything else, so that a
        // block made since then is not revealed by a 404 here.
        let created = if relation.b_has_a_as_contact {
            false
        } else {
            if relation.a_blocked_b {
                return Ok(Outcome::Missing);
            }
            if by_username && !profile_visible(profile.profile_visibility, Viewer::User(relation)) {
                return Ok(Outcome::Missing);
            }
            // `false` when a concurrent request added it first.
            social::add_contact(conn, me, them, now)?
        };
        let entry = social::contact(conn, me, them)?
            .ok_or_else(|| passerelle_store::StoreError::Internal("contact vanished".into()))?;
        // Adding the requester as a contact accepts their request.
        let events = match conversations::find_direct_of(conn, me, them)? {
            Some(c) => accept_now(conn, c.id, me, now)?.unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(if created {
            Outcome::Added(entry, events)
        } else {
            Outcome::Already(entry, events)
        })
    })
    .await?;
    match outcome {
        Outcome::Added(entry, events) => {
            publish(&state, &events).await;
            // The caller now watches them (and may now be seen by them).
            state
                .presence
                .reannounce_pair(PairChange::ContactAdded {
                    owner: me,
                    contact: entry.profile.user_id,
                })
                .await;
            Ok(HttpResponse::Created().json(super::to_api(entry)))
        }
        Outcome::Already(entry, events) => {
            publish(&state, &events).await;
            Ok(HttpResponse::Ok().json(super::to_api(entry)))
        }
        Outcome::Missing => Err(ApiError::NotFound),
        Outcome::Yourself => Err(ApiError::Validation(
            "you cannot add yourself as a contact".into(),
        )),
    }
}
