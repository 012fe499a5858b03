"""Prints a Claude Code-shaped Messages request for bench/translation.sh (deterministic).

System blocks with cache_control, 15 client tools with JSON schemas plus a server tool, and
40 assistant/user turn pairs: thinking, text and tool_use blocks; tool_result blocks with
multi-kilobyte text (some as blocks with an image, some errors); a mid-conversation system
message; a final user question.
"""
import json

filler = "fn handle(req: Request) -> Result<Response, Error> { let body = req.body(); }\n"
tools = [
    {
        "name": f"Tool{i}",
        "description": f"Tool number {i}. " + "Use it carefully. " * 20,
        "input_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": False,
            "required": ["path"],
            "properties": {
                "path": {"type": "string", "description": "Absolute path"},
                "limit": {"type": "number"},
                "mode": {"type": "string", "enum": ["a", "b", "c"]},
                "items": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            },
        },
    }
    for i in range(15)
]
tools.append({"type": "web_search_20250305", "name": "web_search", "max_uses": 5})
messages = [{"role": "user", "content": [
    {"type": "text", "text": "<system-reminder>" + "context " * 200 + "</system-reminder>"},
    {"type": "text", "text": "Fix the failing test in src/lib.rs", "cache_control": {"type": "ephemeral"}},
]}]
for turn in range(40):
    messages.append({"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Let me look at the next file. " * 10, "signature": "c2ln" * 40},
        {"type": "text", "text": f"Looking at file {turn}."},
        {"type": "tool_use", "id": f"toolu_{turn:04}", "name": f"Tool{turn % 15}",
         "input": {"path": f"/repo/src/file{turn}.rs", "limit": 200, "items": [{"k": "v"}] * 3}},
    ]})
    if turn % 7 == 3:
        content = [{"type": "text", "text": filler * 20},
                   {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo" * 50}}]
    else:
        content = filler * 60
    result = {"type": "tool_result", "tool_use_id": f"toolu_{turn:04}", "content": content}
    if turn % 11 == 5:
        result["is_error"] = True
    messages.append({"role": "user", "content": [result]})
    if turn == 20:
        messages.append({"role": "system", "content": [{"type": "text", "text": "Context was compacted."}]})
messages.append({"role": "user", "content": "Now run the tests."})
print(json.dumps({
    "model": "placeholder", "max_tokens": 32000, "stream": True, "temperature": 1,
    "metadata": {"user_id": "user_bench_session_1"},
    "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1; cc_entrypoint=sdk-cli"},
        {"type": "text", "text": "You are Claude Code. " * 400, "cache_control": {"type": "ephemeral"}},
    ],
    "messages": messages, "tools": tools, "tool_choice": {"type": "auto"},
}))
