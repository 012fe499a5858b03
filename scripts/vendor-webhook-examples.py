#!/usr/bin/env python3
"""Writes the webhook examples coworker's tests use, from npm @octokit/webhooks-examples, to tests/fixtures/events/.

Run after .ci/tools.sh: python3 scripts/vendor-webhook-examples.py
Each example lands as <event>/<action or 'default'>.<n>.json, byte-for-byte the payload GitHub documents.
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / ".tools/npm/node_modules/@octokit/webhooks-examples/api.github.com/index.json"
EVENTS = ["issue_comment", "issues", "pull_request_review_comment", "pull_request_review",
          "pull_request", "workflow_dispatch", "push", "repository_dispatch"]
ACTIONS = {"issues": {"opened", "assigned", "labeled", "edited"},
           "pull_request": {"opened", "synchronize"}}

def main():
    catalog = {entry["name"]: entry for entry in json.loads(SOURCE.read_text())}
    for event in EVENTS:
        counters = {}
        for example in catalog[event]["examples"]:
            action = example.get("action") or "default"
            if event in ACTIONS and action not in ACTIONS[event]:
                continue
            counters[action] = counters.get(action, 0) + 1
            out = ROOT / "tests/fixtures/events" / event / f"{action}.{counters[action]}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(example, indent=2) + "\n")

if __name__ == "__main__":
    main()
