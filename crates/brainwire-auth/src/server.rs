//! The accepting party's side: the first message must be `auth.request`.

use std::sync::Arc;
use std::time::Instant;

use crate::link::{Core, Phase};
use crate::{AuthFailure, AuthRequest, AuthSuccess, Event, Message, SessionConfig, SessionError};

/// What a server grants an authenticated client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant {
    /// The organisation's public alias, sent in `auth.success`.
    pub org_public_alias: Option<String>,
}

impl Grant {
    /// A grant without an organisation alias (`Grant::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The grant with `alias` as the organisation's public alias.
    pub fn with_org_public_alias(mut self, alias: impl Into<String>) -> Self {
        self.org_public_alias = Some(alias.into());
        self
    }
}

/// Checks `auth.request`: the server's credential store, implemented by the embedder.
pub trait TokenVerifier {
    /// A grant for the request, or the reason (sent in `auth.failure`) to refuse it.
    ///
    /// # Errors
    ///
    /// The reason the token is refused.
    fn verify(&self, request: &AuthRequest) -> Result<Grant, String>;
}

impl<F: Fn(&AuthRequest) -> Result<Grant, String>> TokenVerifier for F {
    fn verify(&self, request: &AuthRequest) -> Result<Grant, String> {
        self(request)
    }
}

/// Where connection ids come from (a UUID generator in production).
pub type ConnectionIds = Box<dyn FnMut() -> String + Send>;

/// The server of document 002, without I/O: the first message must be `auth.request`
/// within the handshake timeout; the token goes to a [`TokenVerifier`]; the answer is
/// `auth.success` with an id from the injected generator, or `auth.failure` and a close
/// (1008). Then heartbeats, liveness and acks as on the client.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use brainwire_auth::{encode, AuthRequest, Event, Grant, Message, Server, SessionConfig, Token};
///
/// // Any `Fn(&AuthRequest) -> Result<Grant, String>` is a verifier. `Token`s compare in
/// // constant time; comparing `expose()` strings would not.
/// let api_key = Token::new("api-key").unwrap();
/// let keys = move |request: &AuthRequest| {
///     if request.token == api_key { Ok(Grant::new()) } else { Err("unknown key".to_owned()) }
/// };
///
/// let now = Instant::now();
/// let mut server = Server::accept(now, Arc::new(keys), Box::new(|| "conn-1".to_owned()), SessionConfig::default());
/// let request = encode(&Message::AuthRequest(AuthRequest::new(Token::new("api-key").unwrap(), 1)));
/// server.handle_message(now, &request);
/// assert_eq!(&server.poll_transmit().unwrap()[..], br#"{"type":"auth.success","connectionId":"conn-1"}"#);
/// assert!(matches!(server.poll_event(), Some(Event::Accepted { .. })));
/// assert!(server.poll_close().is_none());
/// ```
pub struct Server {
    core: Core,
    verifier: Arc<dyn TokenVerifier + Send + Sync>,
    connection_ids: ConnectionIds,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("phase", &self.core.phase)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server side of a connection opened at `now`.
    pub fn accept(
        now: Instant,
        verifier: Arc<dyn TokenVerifier + Send + Sync>,
        connection_ids: ConnectionIds,
        config: SessionConfig,
    ) -> Self {
        Self {
            core: Core::new(now, config),
            verifier,
            connection_ids,
        }
    }

    /// Handles one received message; a fatal error is returned for `handle_message` to
    /// record.
    fn receive(&mut self, now: Instant, bytes: &[u8]) -> Result<(), SessionError> {
        match self.core.phase {
            Phase::Closed => Ok(()),
            Phase::Handshaking { .. } => {
                let message = match crate::decode_with(bytes, &self.core.config.limits) {
                    Ok(message) => message,
                    Err(e) => return Err(SessionError::Decode(e)),
                };
                let Message::AuthRequest(request) = message else {
                    return Err(SessionError::Unexpected {
                        message_type: message.message_type().into(),
                    });
                };
                match self.verifier.verify(&request) {
                    Ok(grant) => {
                        let connection_id = (self.connection_ids)();
                        let mut success = AuthSuccess::new(connection_id.clone());
                        success.org_public_alias = grant.org_public_alias;
                        self.core.send(&Message::AuthSuccess(success));
                        self.core.open(now);
                        self.core.events.push_back(Event::Accepted {
                            connection_id,
                            request: Box::new(request),
                        });
                        Ok(())
                    }
                    Err(reason) => {
                        self.core
                            .send(&Message::AuthFailure(AuthFailure::new(reason.clone())));
                        Err(SessionError::AuthFailed { reason })
                    }
                }
            }
            Phase::Authenticated => self.core.handle_authenticated(now, bytes),
        }
    }

    crate::link::shared_link_methods!();
}
