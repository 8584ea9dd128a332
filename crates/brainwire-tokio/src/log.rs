//! Connection events and spans through `tracing` (the default `tracing` feature): ids and
//! codes, never tokens or secrets. Without the feature every call here compiles to nothing
//! and `tracing` is not built.

use std::future::Future;

use brainwire_sign::SessionBinding;

#[cfg(feature = "tracing")]
pub(crate) use tracing::{debug, warn as warn_event};

/// Without `tracing`: the arguments are dropped unevaluated.
#[cfg(not(feature = "tracing"))]
macro_rules! debug {
    ($($anything:tt)*) => {{}};
}
#[cfg(not(feature = "tracing"))]
pub(crate) use {debug, debug as warn_event};

/// The span of one connection (or of one agent across its connections), with the
/// session's ids recorded once they are known.
#[derive(Clone)]
pub(crate) struct ConnectionSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl ConnectionSpan {
    /// No span (before the first connection).
    pub(crate) fn none() -> Self {
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::Span::none(),
        }
    }

    /// The span of an [`Agent`](crate::Agent)'s driver, across its connections.
    pub(crate) fn agent() -> Self {
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!("agent"),
        }
    }

    /// An agent's connection to the brain at `url`.
    pub(crate) fn brain_connection(url: &str) -> Self {
        #[cfg(not(feature = "tracing"))]
        let _ = url;
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!(
                "brain_connection",
                url = %url,
                session_id = tracing::field::Empty,
                agent_id = tracing::field::Empty,
                project_id = tracing::field::Empty,
            ),
        }
    }

    /// The brain's side of the connection of session `session_id`.
    pub(crate) fn agent_connection(session_id: &str) -> Self {
        #[cfg(not(feature = "tracing"))]
        let _ = session_id;
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!(
                "agent_connection",
                session_id = %session_id,
                agent_id = tracing::field::Empty,
                project_id = tracing::field::Empty,
            ),
        }
    }

    /// Records the established session's ids.
    pub(crate) fn record_binding(&self, binding: &SessionBinding) {
        #[cfg(feature = "tracing")]
        self.span.record("session_id", binding.session_id.as_str());
        self.record_agent(&binding.agent_id, &binding.project_id);
    }

    /// Records whose connection this is (v1 agents have no session binding).
    pub(crate) fn record_agent(&self, agent_id: &str, project_id: &str) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("agent_id", agent_id);
            self.span.record("project_id", project_id);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (agent_id, project_id);
    }

    /// `future`, run inside this span.
    pub(crate) fn instrument<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        #[cfg(feature = "tracing")]
        {
            tracing::Instrument::instrument(future, self.span)
        }
        #[cfg(not(feature = "tracing"))]
        future
    }
}
