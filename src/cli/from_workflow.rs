//! `--from-workflow FILE[:JOB[:STEP]]`: the `with:` block of the workflow's coworker step as the
//! local run's inputs, so a team tries the configuration it ships. `${{ secrets.X }}`,
//! `${{ vars.X }}` and `${{ env.X }}` are read from the environment variable `X`; any other
//! expression cannot be evaluated off GitHub and is refused by name.
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkflowError {
    #[error("--from-workflow {}: cannot read it: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("--from-workflow {}: not a workflow: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("--from-workflow: no job {job:?} (jobs: {})", known.join(", "))]
    NoJob { job: String, known: Vec<String> },
    #[error("--from-workflow: no coworker step{} (a step that uses …/coworker@…)", on_job(.job))]
    NoStep { job: Option<String> },
    #[error("--from-workflow: no step {step:?} in job {job} (coworker steps: {})", known.join(", "))]
    NoSuchStep {
        job: String,
        step: String,
        known: Vec<String>,
    },
    #[error(
        "--from-workflow: {} coworker steps ({}); choose one with FILE:JOB:STEP",
        known.len(),
        known.join(", ")
    )]
    Ambiguous { known: Vec<String> },
    #[error(
        "input {input}: the workflow reads ${{{{ {expr} }}}}; set the environment variable {var} to run it locally"
    )]
    MissingVariable {
        input: String,
        expr: String,
        var: String,
    },
    #[error(
        "input {input}: ${{{{ {expr} }}}} can only be evaluated on GitHub; pass --{input} instead"
    )]
    Unsupported { input: String, expr: String },
}

fn on_job(job: &Option<String>) -> String {
    job.as_ref()
        .map(|j| format!(" in job {j}"))
        .unwrap_or_default()
}

/// `FILE[:JOB[:STEP]]` as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRef {
    pub path: PathBuf,
    pub job: Option<String>,
    pub step: Option<String>,
}

impl WorkflowRef {
    pub fn parse(text: &str) -> Self {
        let mut parts = text.splitn(3, ':');
        let path = PathBuf::from(parts.next().unwrap_or_default());
        let job = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        let step = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        Self { path, job, step }
    }
}

#[derive(Debug, Deserialize)]
struct Workflow {
    #[serde(default)]
    jobs: BTreeMap<String, Job>,
}

#[derive(Debug, Deserialize)]
struct Job {
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, yaml_serde::Value>,
}

impl Step {
    /// This action: `owner/coworker@ref`, or the repository's own action (`./`).
    fn is_coworker(&self) -> bool {
        let Some(uses) = self.uses.as_deref() else {
            return false;
        };
        let repo = uses.split('@').next().unwrap_or_default();
        repo == "." || repo == "./" || repo.rsplit('/').next() == Some("coworker")
    }

    fn label(&self, index: usize) -> String {
        self.id
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| index.to_string())
    }
}

/// Reads `r`'s workflow and returns the chosen coworker step's inputs, expressions resolved
/// through `env`.
pub fn inputs(
    r: &WorkflowRef,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, WorkflowError> {
    let text = std::fs::read_to_string(&r.path).map_err(|e| WorkflowError::Read {
        path: r.path.clone(),
        message: e.to_string(),
    })?;
    inputs_from(&text, &r.path, r.job.as_deref(), r.step.as_deref(), env)
}

/// [`inputs`] from the workflow's text.
pub fn inputs_from(
    text: &str,
    path: &Path,
    job: Option<&str>,
    step: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, WorkflowError> {
    let wf: Workflow = yaml_serde::from_str(text).map_err(|e| WorkflowError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let jobs: Vec<(&String, &Job)> = match job {
        Some(name) => match wf.jobs.get_key_value(name) {
            Some(j) => vec![j],
            None => {
                return Err(WorkflowError::NoJob {
                    job: name.to_string(),
                    known: wf.jobs.keys().cloned().collect(),
                });
            }
        },
        None => wf.jobs.iter().collect(),
    };
    let candidates: Vec<(String, String, &Step)> = jobs
        .iter()
        .flat_map(|(name, j)| {
            j.steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_coworker())
                .map(|(i, s)| ((*name).clone(), s.label(i), s))
        })
        .collect();
    let chosen = match (step, candidates.as_slice()) {
        (Some(wanted), _) => candidates
            .iter()
            .find(|(_, label, _)| label == wanted)
            .ok_or_else(|| WorkflowError::NoSuchStep {
                job: job.unwrap_or("*").to_string(),
                step: wanted.to_string(),
                known: candidates.iter().map(|(_, l, _)| l.clone()).collect(),
            })?,
        (None, []) => {
            return Err(WorkflowError::NoStep {
                job: job.map(str::to_string),
            });
        }
        (None, [one]) => one,
        (None, many) => {
            return Err(WorkflowError::Ambiguous {
                known: many.iter().map(|(j, l, _)| format!("{j}:{l}")).collect(),
            });
        }
    };
    chosen
        .2
        .with
        .iter()
        .map(|(name, value)| Ok((name.clone(), resolve(name, &scalar(value), env)?)))
        .collect()
}

fn scalar(v: &yaml_serde::Value) -> String {
    match v {
        yaml_serde::Value::String(s) => s.clone(),
        yaml_serde::Value::Bool(b) => b.to_string(),
        yaml_serde::Value::Number(n) => n.to_string(),
        yaml_serde::Value::Null => String::new(),
        other => yaml_serde::to_string(other).unwrap_or_default(),
    }
}

/// Replaces every `${{ … }}` in `value`.
fn resolve(
    input: &str,
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, WorkflowError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let expr = after[..end].trim();
        let var = ["secrets.", "vars.", "env."]
            .iter()
            .find_map(|p| expr.strip_prefix(p))
            .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let Some(var) = var else {
            return Err(WorkflowError::Unsupported {
                input: input.to_string(),
                expr: expr.to_string(),
            });
        };
        match env(var) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(WorkflowError::MissingVariable {
                    input: input.to_string(),
                    expr: expr.to_string(),
                    var: var.to_string(),
                });
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
jobs:
  a:
    steps:
      - uses: actions/checkout@v4
      - uses: org/coworker@v1
        id: fast
        with: { max_turns: 5, anthropic_api_key: "${{ secrets.KEY }}" }
      - uses: org/coworker@v1
        name: careful
        with: { max_turns: "50", prompt: "hello ${{ vars.WHO }}!" }
"#;

    fn env(k: &str) -> Option<String> {
        match k {
            "KEY" => Some("sk-1".into()),
            "WHO" => Some("world".into()),
            _ => None,
        }
    }

    #[test]
    fn a_step_is_chosen_by_job_and_id_or_name_and_expressions_come_from_the_environment() {
        let p = Path::new("w.yml");
        assert!(matches!(
            inputs_from(TWO, p, None, None, &env),
            Err(WorkflowError::Ambiguous { known }) if known == ["a:fast", "a:careful"]
        ));
        let fast = inputs_from(TWO, p, Some("a"), Some("fast"), &env).expect("fast");
        assert_eq!(
            fast,
            [
                ("anthropic_api_key".to_string(), "sk-1".to_string()),
                ("max_turns".to_string(), "5".to_string())
            ]
        );
        let careful = inputs_from(TWO, p, Some("a"), Some("careful"), &env).expect("careful");
        assert!(careful.contains(&("prompt".into(), "hello world!".into())));
        assert!(matches!(
            inputs_from(TWO, p, Some("b"), None, &env),
            Err(WorkflowError::NoJob { .. })
        ));
    }

    #[test]
    fn a_missing_variable_and_a_github_only_expression_are_named() {
        let text = "jobs: {j: {steps: [{uses: o/coworker@v1, with: {anthropic_api_key: '${{ secrets.NOPE }}'}}]}}";
        let err = inputs_from(text, Path::new("w"), None, None, &env).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "input anthropic_api_key: the workflow reads ${{ secrets.NOPE }}; set the environment variable NOPE to run it locally"
        );
        let text = "jobs: {j: {steps: [{uses: o/coworker@v1, with: {prompt: '${{ github.event.issue.title }}'}}]}}";
        let err = inputs_from(text, Path::new("w"), None, None, &env).expect_err("unsupported");
        assert!(err.to_string().contains("pass --prompt instead"), "{err}");
    }
}
