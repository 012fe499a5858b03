//! OpenAI chat-completions shapes, as far as the proxy's translation needs them: the request it
//! sends, the answer it reads (whole or as stream chunks). Typed so the translators in `openai`
//! and `openai_stream` build and match shapes instead of walking JSON.
//!
//! The request side borrows from the Anthropic request it is translated from. The answer side
//! is lenient the way OpenAI-compatible servers need: missing or `null` fields read as absent,
//! unknown fields are ignored.
use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Number, Value};

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<ChatMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<&'a Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<&'a Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a [Cow<'a, str>]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ChatTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ChatToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage<'a> {
    System {
        content: Cow<'a, str>,
    },
    User {
        content: UserContent<'a>,
    },
    /// `content` is `null` when the turn is only tool calls.
    Assistant {
        content: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: Cow<'a, str>,
    },
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl<'a> },
}

#[derive(Debug, PartialEq, Serialize)]
pub struct ImageUrl<'a> {
    pub url: Cow<'a, str>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct ToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: FunctionType,
    pub function: FunctionCall<'a>,
}

/// The only tool type chat completions has.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionType {
    Function,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct FunctionCall<'a> {
    pub name: &'a str,
    /// The arguments as a JSON text, which is how chat completions carries them.
    pub arguments: String,
}

#[derive(Debug, Serialize)]
pub struct ChatTool<'a> {
    #[serde(rename = "type")]
    pub kind: FunctionType,
    pub function: FunctionDef<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDef<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// The tool's JSON Schema, passed through untouched.
    pub parameters: &'a Value,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ChatToolChoice<'a> {
    /// `auto`, `required` or `none`.
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: FunctionType,
        function: NamedFunction<'a>,
    },
}

#[derive(Debug, Serialize)]
pub struct NamedFunction<'a> {
    pub name: &'a str,
}

/// `null` reads as the default, as a missing field does.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A whole (non-streamed) chat completion.
#[derive(Debug, Default, Deserialize)]
pub struct ChatResponse {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub choices: Vec<ResponseChoice>,
    #[serde(default)]
    pub usage: Option<ChatUsage>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseChoice {
    #[serde(default, deserialize_with = "nullable")]
    pub message: ResponseMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_calls: Vec<ResponseToolCall>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseToolCall {
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub function: ResponseFunction,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseFunction {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// Token counts; `prompt_tokens` includes the cached ones.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct ChatUsage {
    #[serde(default, deserialize_with = "nullable")]
    pub prompt_tokens: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub completion_tokens: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub prompt_tokens_details: PromptTokensDetails,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default, deserialize_with = "nullable")]
    pub cached_tokens: u64,
}

/// One `data:` chunk of a streamed chat completion.
#[derive(Debug, Deserialize)]
pub struct ChatChunk<'a> {
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "nullable", borrow)]
    pub choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    pub usage: Option<ChatUsage>,
    #[serde(default, borrow)]
    pub error: Option<ChunkError<'a>>,
}

/// An error reported inside the stream: an object with a message, or anything else.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ChunkError<'a> {
    Object {
        #[serde(default, borrow)]
        message: Option<Cow<'a, str>>,
    },
    /// Its content is not shown: only an object's `message` is known to be meant for people.
    Other(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
pub struct ChunkChoice<'a> {
    #[serde(default, deserialize_with = "nullable", borrow)]
    pub delta: Delta<'a>,
    #[serde(default, borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta<'a> {
    #[serde(default, borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "nullable", borrow)]
    pub tool_calls: Vec<DeltaToolCall<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaToolCall<'a> {
    #[serde(default, deserialize_with = "nullable")]
    pub index: u64,
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "nullable", borrow)]
    pub function: DeltaFunction<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DeltaFunction<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub arguments: Option<Cow<'a, str>>,
}
