//! The example workflows are what users copy: every `with:` key they pass to coworker must be
//! an input of action.yml, and every output they read must be one of its outputs.
use crate::support::harness::repo_root;
use yaml_serde::Value;

fn yaml(path: &std::path::Path) -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(path).expect("read")).expect("yaml")
}

fn keys(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn example_workflows_use_only_inputs_and_outputs_the_action_has() {
    let action = yaml(&repo_root().join("action.yml"));
    let inputs = keys(&action, "inputs");
    let outputs = keys(&action, "outputs");
    assert!(inputs.contains(&"verify_command".to_string()));
    let dir = repo_root().join("examples/workflows");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let workflow = yaml(&path);
        for (_, job) in workflow["jobs"].as_mapping().expect("jobs") {
            for step in job["steps"].as_sequence().expect("steps") {
                let uses = step["uses"].as_str().unwrap_or("");
                if !uses.contains("/coworker@") {
                    continue;
                }
                checked += 1;
                for key in keys(step, "with") {
                    assert!(
                        inputs.contains(&key),
                        "{}: `{key}` is not an input of action.yml",
                        path.display()
                    );
                }
            }
        }
        for (i, _) in text.match_indices(".outputs.") {
            let name: String = text[i + ".outputs.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                outputs.contains(&name),
                "{}: output `{name}` is not an output of action.yml",
                path.display()
            );
        }
    }
    assert!(checked >= 3, "found {checked} coworker steps");
}
