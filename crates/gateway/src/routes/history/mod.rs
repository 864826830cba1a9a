//! `/v1/conversations/{id}/messages`: a conversation's message history, for
//! members only. A non-member, or an id that does not exist, gets the same
//! 404: the history reveals neither the conversation nor its messages. A
//! sender retracts their own message with `DELETE …/messages/{messageId}`;
//! a member marks it read with `PUT …/read`; the sender asks how far a
//! message got with `GET …/messages/{messageId}/receipts`.

pub mod list;
pub mod read;
pub mod receipts;
pub mod retract;
