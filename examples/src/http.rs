//! The HTTP side of the brain's one port: read a request head, answer plain requests, and
//! hand WebSocket upgrades to tungstenite with the head put back in front of the stream.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// Longest request head read, in bytes (431 past it).
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most header lines read.
const MAX_HEADERS: usize = 64;
/// How long a client may take to send its request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// What the router needs from a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without the `?`.
    pub query: Option<String>,
    /// The `Authorization: Bearer` token.
    pub bearer: Option<String>,
    /// Whether it asks for a WebSocket (`Upgrade: websocket`).
    pub upgrade: bool,
}

impl RequestHead {
    /// The value of `name` in the query, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            // Percent-decoded: a token holding `+`, `/` or `=` arrives encoded.
            (key == name)
                .then(|| {
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8()
                        .ok()
                })
                .flatten()
        })
    }
}

/// Why a request head could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadError {
    /// Not HTTP/1.x, or malformed.
    #[error("malformed request head: {0}")]
    Malformed(#[from] httparse::Error),
    /// Past [`MAX_HEAD_BYTES`].
    #[error("request head over {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    /// The client took longer than [`HEAD_DEADLINE`].
    #[error("no request head within {HEAD_DEADLINE:?}")]
    Slow,
    /// The connection failed or ended first.
    #[error("reading the request head: {0}")]
    Io(#[from] io::Error),
}

impl HeadError {
    /// The status to answer with, when the connection is still worth an answer.
    pub fn status(&self) -> Option<&'static str> {
        match self {
            Self::Malformed(_) => Some("400 Bad Request"),
            Self::TooLarge => Some("431 Request Header Fields Too Large"),
            Self::Slow => Some("408 Request Timeout"),
            Self::Io(_) => None,
        }
    }
}

/// Reads one request head; returns it parsed, with every byte read so far (the head, and
/// anything a client sent after it) for the WebSocket handshake to read again.
pub(crate) async fn read_head(stream: &mut TcpStream) -> Result<(RequestHead, Vec<u8>), HeadError> {
    let mut buffer = Vec::with_capacity(1024);
    let read = async {
        // Bytes already searched for the blank line that ends the head: each byte is
        // looked at once, however the client splits its writes (a head dripped a byte at
        // a time costs what it costs in one piece), and the head is parsed once.
        let mut searched = 0;
        loop {
            if let Some(end) = head_end(&buffer, searched) {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut request = httparse::Request::new(&mut headers);
                count_parse();
                return match request.parse(&buffer[..end])? {
                    httparse::Status::Complete(_) => Ok(head_of(&request)),
                    httparse::Status::Partial => Err(HeadError::Malformed(httparse::Error::Token)),
                };
            }
            searched = buffer.len().saturating_sub(3);
            if buffer.len() >= MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            let mut chunk = [0u8; 4096];
            let room = (MAX_HEAD_BYTES - buffer.len()).min(chunk.len());
            let n = stream.read(&mut chunk[..room]).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
    };
    let head = tokio::time::timeout(HEAD_DEADLINE, read)
        .await
        .map_err(|_| HeadError::Slow)??;
    Ok((head, buffer))
}

/// Where the head ends (just past its blank line), looking from `from` on.
fn head_end(buffer: &[u8], from: usize) -> Option<usize> {
    buffer[from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| from + at + 4)
}

#[cfg(test)]
thread_local! {
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts parses on this thread, for the test that a dripped head is parsed once.
fn count_parse() {
    #[cfg(test)]
    PARSES.set(PARSES.get() + 1);
}

fn head_of(request: &httparse::Request<'_, '_>) -> RequestHead {
    let target = request.path.unwrap_or("/");
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (target, None),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    RequestHead {
        method: request.method.unwrap_or_default().to_owned(),
        path: path.to_owned(),
        query,
        bearer: header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned),
        upgrade: header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
    }
}

/// Answers a plain request and closes: `status` (`"200 OK"`), with a JSON body if any.
pub(crate) async fn respond(
    stream: TcpStream,
    status: &str,
    json: Option<&[u8]>,
) -> io::Result<()> {
    respond_with(stream, status, json.map(|body| ("application/json", body))).await
}

/// Writes a response with `body` of its content type, then closes.
pub(crate) async fn respond_with(
    mut stream: TcpStream,
    status: &str,
    body: Option<(&str, &[u8])>,
) -> io::Result<()> {
    let (content_type, body) = match body {
        Some((content_type, body)) => (format!("Content-Type: {content_type}\r\n"), body),
        None => (String::new(), &[][..]),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

/// The stream a WebSocket runs on once its head was read: the bytes read so far, then the
/// socket.
pub(crate) type Upgraded = tokio::io::Join<
    tokio::io::Chain<io::Cursor<Vec<u8>>, tokio::net::tcp::OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
>;

/// Completes the WebSocket handshake of a request whose head was read, refusing messages
/// over `max_message_bytes`.
pub(crate) async fn upgrade(
    stream: TcpStream,
    read: Vec<u8>,
    max_message_bytes: usize,
    buffer_bytes: usize,
) -> Result<WebSocketStream<Upgraded>, tokio_tungstenite::tungstenite::Error> {
    let (reader, writer) = stream.into_split();
    let io = tokio::io::join(io::Cursor::new(read).chain(reader), writer);
    // Small buffers: tungstenite's default 128 KiB read buffer made 1,000 idle
    // dashboards cost 137 MB.
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message_bytes))
        .max_frame_size(Some(max_message_bytes))
        .read_buffer_size(buffer_bytes)
        .write_buffer_size(buffer_bytes)
        .max_write_buffer_size(max_message_bytes.saturating_mul(2).max(buffer_bytes * 2));
    tokio_tungstenite::accept_async_with_config(io, Some(config)).await
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// A 12 KB head written one byte at a time is searched once and parsed once.
    #[tokio::test]
    async fn a_dripped_head_is_parsed_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let padding = "x".repeat(12 * 1024);
        let head = format!("GET /ws?token=a%2Bb HTTP/1.1\r\nHost: h\r\nX-Pad: {padding}\r\n\r\n");
        let client = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            for byte in head.as_bytes() {
                stream.write_all(&[*byte]).await.unwrap();
            }
            stream
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        PARSES.set(0);
        let (head, _) = read_head(&mut stream).await.unwrap();
        assert_eq!(PARSES.get(), 1);
        assert_eq!(head.path, "/ws");
        assert_eq!(head.query_param("token").as_deref(), Some("a+b"));
        drop(client.await.unwrap());
    }
}
