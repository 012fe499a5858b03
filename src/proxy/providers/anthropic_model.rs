//! The Anthropic Messages API as the proxy speaks it when it translates for another API (OpenAI
//! chat completions): the request it reads (messages and their content blocks, the system
//! prompt, tools, the sampling knobs) and the answer and stream events it writes back. Typed so
//! the translators match and build shapes instead of walking JSON.
//!
//! Deserialized from the already-parsed request body (`&Map`), borrowing its strings where it
//! can. Fields this model does not name are ignored (Claude Code sends many; the translators
//! have no use for them). Anthropic-format upstreams never go through this model: they get the
//! body itself, so nothing they understand is lost to a missing field here.
use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::proxy::usage::Usage;

/// `POST /v1/messages` body.
#[derive(Debug, Deserialize)]
pub struct MessagesRequest<'a> {
    #[serde(borrow)]
    pub messages: Vec<Message<'a>>,
    #[serde(default, borrow)]
    pub system: Option<System<'a>>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// Numbers forwarded as written (`1` stays `1`), as the untyped translation did.
    #[serde(default)]
    pub temperature: Option<Number>,
    #[serde(default)]
    pub top_p: Option<Number>,
    #[serde(default, borrow)]
    pub stop_sequences: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    pub tools: Vec<Tool<'a>>,
    #[serde(default, borrow)]
    pub tool_choice: Option<ToolChoice<'a>>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default, borrow)]
    pub metadata: Option<Metadata<'a>>,
}

impl<'a> MessagesRequest<'a> {
    /// Reads the request body; a shape error names the offending field.
    pub fn from_body(body: &'a Map<String, Value>) -> Result<Self, serde_json::Error> {
        Self::deserialize(body)
    }
}

#[derive(Debug, Deserialize)]
pub struct Metadata<'a> {
    #[serde(default, borrow)]
    pub user_id: Option<Cow<'a, str>>,
}

/// `system`: a plain string or text blocks (which may carry `cache_control`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum System<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Blocks(#[serde(borrow)] Vec<SystemBlock<'a>>),
}

#[derive(Debug, Deserialize)]
pub struct SystemBlock<'a> {
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
}

impl System<'_> {
    /// The prompt as one string, blocks separated by a blank line.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            System::Text(s) => Cow::Borrowed(s),
            System::Blocks(blocks) => Cow::Owned(
                blocks
                    .iter()
                    .filter_map(|b| b.text.as_deref())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// Claude Code puts mid-conversation system entries into `messages`.
    System,
}

#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    pub role: Role,
    #[serde(borrow)]
    pub content: Content<'a>,
}

/// A message's (or a tool result's) content: a string or blocks.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Blocks(#[serde(borrow)] Vec<Block<'a>>),
}

/// A content block. Types this proxy cannot translate (documents, server tool results, ...)
/// read as [`Block::Other`] and are dropped by the translators, as they always were.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block<'a> {
    Text {
        #[serde(borrow)]
        text: Cow<'a, str>,
    },
    Image {
        #[serde(borrow)]
        source: ImageSource<'a>,
    },
    ToolUse {
        #[serde(borrow)]
        id: Cow<'a, str>,
        #[serde(borrow)]
        name: Cow<'a, str>,
        /// The tool's arguments: whatever JSON the model produced, passed through as is.
        #[serde(default)]
        input: Option<Value>,
    },
    ToolResult {
        #[serde(borrow)]
        tool_use_id: Cow<'a, str>,
        #[serde(default, borrow)]
        content: Option<Content<'a>>,
        #[serde(default)]
        is_error: bool,
    },
    Thinking {
        #[serde(borrow)]
        thinking: Cow<'a, str>,
        #[serde(default, borrow)]
        signature: Option<Cow<'a, str>>,
    },
    RedactedThinking {
        #[serde(borrow)]
        data: Cow<'a, str>,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource<'a> {
    Base64 {
        #[serde(default, borrow)]
        media_type: Option<Cow<'a, str>>,
        #[serde(borrow)]
        data: Cow<'a, str>,
    },
    Url {
        #[serde(borrow)]
        url: Cow<'a, str>,
    },
    /// `file` sources and whatever comes next: nothing a chat completion can point at.
    #[serde(other)]
    Other,
}

/// A tool definition. Client tools have an `input_schema`; server tools (web search and
/// friends) have a versioned `type` and no schema.
#[derive(Debug, Deserialize)]
pub struct Tool<'a> {
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default, borrow)]
    pub description: Option<Cow<'a, str>>,
    /// A JSON Schema, forwarded untouched: its vocabulary is open-ended.
    #[serde(default)]
    pub input_schema: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice<'a> {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    Tool {
        #[serde(borrow)]
        name: Cow<'a, str>,
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    None,
    #[serde(other)]
    Other,
}

impl ToolChoice<'_> {
    pub fn disables_parallel_calls(&self) -> bool {
        match self {
            ToolChoice::Auto {
                disable_parallel_tool_use,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use,
            }
            | ToolChoice::Tool {
                disable_parallel_tool_use,
                ..
            } => *disable_parallel_tool_use,
            ToolChoice::None | ToolChoice::Other => false,
        }
    }
}

/// Token counts of an answer, in the four fields Anthropic reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageOut {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl From<UsageOut> for Usage {
    fn from(u: UsageOut) -> Self {
        Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_creation_input_tokens: u.cache_creation_input_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
        }
    }
}

/// An answer (whole, or the empty shell `message_start` carries).
#[derive(Debug, Serialize)]
pub struct MessageOut<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: MessageType,
    pub role: AssistantRole,
    pub model: &'a str,
    pub content: Vec<BlockOut<'a>>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: UsageOut,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Message,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssistantRole {
    Assistant,
}

/// A content block of an answer.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockOut<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: Cow<'a, str>,
        name: &'a str,
        /// The arguments the model produced, parsed from the chat completion's JSON text.
        input: Value,
    },
}

/// The events of a streamed answer, in the order Anthropic sends them.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent<'a> {
    MessageStart {
        message: MessageOut<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: BlockOut<'a>,
    },
    ContentBlockDelta {
        index: usize,
        delta: DeltaOut<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: StopDelta,
        usage: UsageOut,
    },
    MessageStop,
}

impl StreamEvent<'_> {
    /// The SSE `event:` name, which is the `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
        }
    }

    /// The event as SSE bytes (`event:` and `data:` lines).
    pub fn to_sse(&self) -> Bytes {
        // Serializing these types cannot fail: string keys, no maps with other keys.
        let data = serde_json::to_string(self).unwrap_or_default();
        Bytes::from(format!("event: {}\ndata: {data}\n\n", self.name()))
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeltaOut<'a> {
    TextDelta { text: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

#[derive(Debug, Serialize)]
pub struct StopDelta {
    pub stop_reason: &'static str,
    pub stop_sequence: Option<&'static str>,
}
