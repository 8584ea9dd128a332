//! The brain application the tokio driver's benches and tests run: it acknowledges every
//! batch in full and ignores everything else.

use brainwire_tokio::AgentConnection;
use brainwire_v2::BrainEvent;

/// Acknowledges every batch of `connection` as received and accepted, until it ends.
pub async fn acknowledge_every_batch(mut connection: AgentConnection) {
    while let Some(event) = connection.next_event().await {
        if let BrainEvent::EventBatch { batch_id, events } = event {
            let n = events.len() as u64;
            if connection.ack_batch(batch_id, n, n, 0).await.is_err() {
                return;
            }
        }
    }
}
