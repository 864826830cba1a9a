//! The `unread` frame, sent once right after `ready`: the unread counts of
//! the user's most recently active conversations with unread messages
//! (`passerelle_store::unread_summary`), so every device of the user shows
//! the read state of the others as soon as it connects. It needs storage
//! like `ready` does: when the summary cannot be read the session closes
//! with 1011 (as for an unreadable stream) rather than start without it.

use passerelle_api_types::ws::{ServerFrame, Unread, UnreadConversation, close};
use passerelle_store::unread_summary;

use super::inbound::frame_text;
use super::session::{Conn, Ending};

impl Conn {
    pub(super) async fn send_unread(&mut self) -> Result<(), Ending> {
        let user = self.caller.user_id;
        let now = passerelle_store::now();
        let summary = self
            .state
            .store
            .run(move |c| unread_summary::summary(c, user, now))
            .await
            .map_err(|e| Some((close::INTERNAL, format!("unread counts unavailable: {e}"))))?;
        let frame = ServerFrame::Unread {
            payload: Unread {
                conversations: summary
                    .conversations
                    .into_iter()
                    .map(|(conversation, u)| UnreadConversation {
                        conversation_id: conversation,
                        unread_count: u.count,
                        unread_capped: u.capped,
                        read_up_to: u.up_to,
                    })
                    .collect(),
                more: summary.more,
            },
        };
        self.text(frame_text(&frame)).await
    }
}
