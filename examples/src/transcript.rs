//! One line per frame on the wire, as the demo prints it and the tests read it.

use serde::Deserialize;
use tokio::sync::mpsc;

/// Who sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The agent.
    Agent,
    /// The brain.
    Brain,
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A frame sent by `from`, with its wire `type` and a short detail.
    Frame {
        /// The sender.
        from: Side,
        /// The frame's wire type.
        frame_type: String,
        /// What is worth showing (ids, counts).
        detail: String,
    },
    /// Something that is not a frame: a connection opened or closed.
    Note {
        /// Who noticed.
        by: Side,
        /// What happened.
        text: String,
    },
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Frame {
                from: Side::Agent,
                frame_type,
                detail,
            } => write!(f, "agent -> brain  {frame_type:<16} {detail}"),
            Line::Frame {
                from: Side::Brain,
                frame_type,
                detail,
            } => write!(f, "brain -> agent  {frame_type:<16} {detail}"),
            Line::Note {
                by: Side::Agent,
                text,
            } => write!(f, "agent          ({text})"),
            Line::Note {
                by: Side::Brain,
                text,
            } => write!(f, "brain          ({text})"),
        }
    }
}

/// Where a program writes its lines: a bounded channel (the reader sets the pace), or
/// nowhere.
#[derive(Debug, Clone)]
pub struct Transcript(Option<mpsc::Sender<Line>>);

impl Transcript {
    /// A transcript into `sender`.
    pub fn new(sender: mpsc::Sender<Line>) -> Self {
        Self(Some(sender))
    }

    /// A transcript that drops every line.
    pub fn none() -> Self {
        Self(None)
    }

    /// A tap recording each frame a connection of `side` sends. It runs on the
    /// connection's task and must not wait: a line that finds the reader's queue full
    /// is lost (the log, never the protocol).
    pub fn tap(&self, side: Side) -> Option<brainwire_tokio::FrameTap> {
        self.0.as_ref()?;
        let transcript = self.clone();
        Some(brainwire_tokio::FrameTap::new(move |direction, wire| {
            if direction == brainwire_tokio::FrameDirection::Sent {
                transcript.frame_now(side, wire);
            }
        }))
    }

    /// Records a frame `from` sent without waiting (from a [`FrameTap`]); a line that
    /// finds the reader's queue full is lost. Returns the frame's type.
    ///
    /// [`FrameTap`]: brainwire_tokio::FrameTap
    pub fn frame_now(&self, from: Side, wire: &[u8]) -> String {
        let line = frame_line(from, wire);
        let frame_type = match &line {
            Line::Frame { frame_type, .. } => frame_type.clone(),
            Line::Note { .. } => String::new(),
        };
        if let Some(sender) = &self.0 {
            let _ = sender.try_send(line);
        }
        frame_type
    }

    /// Records a note.
    pub async fn note(&self, by: Side, text: impl Into<String>) {
        self.send(Line::Note {
            by,
            text: text.into(),
        })
        .await;
    }

    async fn send(&self, line: Line) {
        if let Some(sender) = &self.0 {
            // A reader that went away only loses the log, never the protocol.
            let _ = sender.send(line).await;
        }
    }
}

/// The line of a frame `from` sent: its type and what identifies it (v2's `id`, v1's
/// `seq` or `cmd_id`), read from its bytes.
fn frame_line(from: Side, wire: &[u8]) -> Line {
    #[derive(Deserialize)]
    struct Frame<'a> {
        #[serde(rename = "type")]
        frame_type: String,
        #[serde(borrow, default)]
        id: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        seq: Option<u64>,
        #[serde(borrow, default)]
        cmd_id: Option<std::borrow::Cow<'a, str>>,
    }
    let (frame_type, detail) = match serde_json::from_slice::<Frame<'_>>(wire) {
        Ok(f) => {
            let detail = match (f.id, f.seq, f.cmd_id) {
                (Some(id), _, _) => format!("id={id}"),
                (None, Some(seq), _) => format!("seq={seq}"),
                (None, None, Some(cmd_id)) => format!("cmd_id={cmd_id}"),
                (None, None, None) => String::new(),
            };
            (f.frame_type, detail)
        }
        Err(_) => ("?".to_owned(), String::new()),
    };
    Line::Frame {
        from,
        frame_type,
        detail,
    }
}
