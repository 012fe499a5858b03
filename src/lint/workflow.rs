//! The typed view of a workflow (or composite action) the audits read: triggers, jobs and steps,
//! each still pointing at its YAML node so a finding can name its line and column.
use super::yaml::Node;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a workflow or composite action: the top level is not a mapping")]
    NotMapping,
    #[error("not a workflow or composite action: no `jobs:` and no `runs.steps:`")]
    NoJobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    CompositeAction,
}

#[derive(Debug)]
pub struct Trigger<'a> {
    pub name: String,
    pub key: &'a Node,
    /// The trigger's configuration (`types:`, `workflows:`, ...), when it has any.
    pub config: Option<&'a Node>,
}

#[derive(Debug)]
pub struct EnvVar<'a> {
    pub name: String,
    pub key: &'a Node,
    pub value: &'a Node,
}

#[derive(Debug)]
pub struct Input<'a> {
    pub name: String,
    pub key: &'a Node,
    pub value: &'a Node,
}

#[derive(Debug)]
pub struct Step<'a> {
    pub index: usize,
    pub node: &'a Node,
    pub id: Option<String>,
    pub uses: Option<&'a Node>,
    pub with: Vec<Input<'a>>,
    pub env: Vec<EnvVar<'a>>,
    pub run: Option<&'a Node>,
    pub cond: Option<&'a Node>,
    pub timeout: Option<&'a Node>,
}

#[derive(Debug)]
pub struct Job<'a> {
    pub id: String,
    pub key: &'a Node,
    pub node: &'a Node,
    pub cond: Option<&'a Node>,
    pub permissions: Option<&'a Node>,
    pub concurrency: Option<&'a Node>,
    pub timeout: Option<&'a Node>,
    pub env: Vec<EnvVar<'a>>,
    pub steps: Vec<Step<'a>>,
    /// A reusable-workflow call (`jobs.<id>.uses`).
    pub uses: Option<&'a Node>,
    pub secrets: Option<&'a Node>,
}

#[derive(Debug)]
pub struct Workflow<'a> {
    pub kind: FileKind,
    pub triggers: Vec<Trigger<'a>>,
    pub env: Vec<EnvVar<'a>>,
    pub permissions: Option<&'a Node>,
    pub concurrency: Option<&'a Node>,
    pub jobs: Vec<Job<'a>>,
}

impl<'a> Workflow<'a> {
    pub fn from_node(root: &'a Node) -> Result<Self, ModelError> {
        if root.as_map().is_none() {
            return Err(ModelError::NotMapping);
        }
        if let Some(jobs) = root.get("jobs").and_then(Node::as_map) {
            return Ok(Workflow {
                kind: FileKind::Workflow,
                triggers: triggers(root.get_entry("on")),
                env: env_vars(root.get("env")),
                permissions: root.get("permissions"),
                concurrency: root.get("concurrency"),
                jobs: jobs
                    .iter()
                    .filter_map(|(k, v)| Some(job(k.as_str()?.to_string(), k, v)))
                    .collect(),
            });
        }
        let runs = root.get("runs").ok_or(ModelError::NoJobs)?;
        let steps = runs.get("steps").ok_or(ModelError::NoJobs)?;
        let (key, _) = root.get_entry("runs").ok_or(ModelError::NoJobs)?;
        Ok(Workflow {
            kind: FileKind::CompositeAction,
            triggers: Vec::new(),
            env: Vec::new(),
            permissions: None,
            concurrency: None,
            jobs: vec![Job {
                id: "composite".into(),
                key,
                node: runs,
                cond: None,
                permissions: None,
                concurrency: None,
                timeout: None,
                env: Vec::new(),
                steps: steps_of(steps),
                uses: None,
                secrets: None,
            }],
        })
    }

    pub fn has_trigger(&self, name: &str) -> bool {
        self.triggers.iter().any(|t| t.name == name)
    }
}

impl Job<'_> {
    /// The job's `if:` and the workflow's permissions, as the runner resolves them.
    pub fn effective_permissions<'b>(&'b self, wf: &'b Workflow<'_>) -> Option<&'b Node> {
        self.permissions.or(wf.permissions)
    }
}

impl<'a> Step<'a> {
    pub fn input(&self, name: &str) -> Option<&Input<'a>> {
        self.with.iter().find(|i| i.name == name)
    }

    pub fn uses_str(&self) -> Option<&'a str> {
        self.uses.and_then(Node::as_str)
    }

    /// The action name of `uses:` without its `@ref`, lower-cased.
    pub fn action(&self) -> Option<String> {
        let u = self.uses_str()?;
        Some(u.split('@').next().unwrap_or(u).to_ascii_lowercase())
    }

    pub fn run_str(&self) -> Option<&'a str> {
        self.run.and_then(Node::as_str)
    }
}

fn triggers<'a>(on: Option<(&'a Node, &'a Node)>) -> Vec<Trigger<'a>> {
    let Some((key, value)) = on else {
        return Vec::new();
    };
    match value {
        Node::Scalar { value: name, .. } => vec![Trigger {
            name: name.clone(),
            key: value,
            config: None,
        }],
        Node::Seq(items, _) => items
            .iter()
            .filter_map(|i| {
                Some(Trigger {
                    name: i.as_str()?.to_string(),
                    key: i,
                    config: None,
                })
            })
            .collect(),
        Node::Map(entries, _) => {
            let _ = key;
            entries
                .iter()
                .filter_map(|(k, v)| {
                    Some(Trigger {
                        name: k.as_str()?.to_string(),
                        key: k,
                        config: (!v.is_null()).then_some(v),
                    })
                })
                .collect()
        }
    }
}

fn env_vars(node: Option<&Node>) -> Vec<EnvVar<'_>> {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    Some(EnvVar {
                        name: k.as_str()?.to_string(),
                        key: k,
                        value: v,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn job<'a>(id: String, key: &'a Node, node: &'a Node) -> Job<'a> {
    Job {
        id,
        key,
        node,
        cond: node.get("if"),
        permissions: node.get("permissions"),
        concurrency: node.get("concurrency"),
        timeout: node.get("timeout-minutes"),
        env: env_vars(node.get("env")),
        // A reusable-workflow call is its own single step, so its `with:` is read like an action's.
        steps: match node.get("uses") {
            Some(_) => vec![step_of(0, node)],
            None => node.get("steps").map(steps_of).unwrap_or_default(),
        },
        uses: node.get("uses"),
        secrets: node.get("secrets"),
    }
}

fn steps_of(node: &Node) -> Vec<Step<'_>> {
    node.as_seq()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.as_map().is_some())
        .map(|(index, s)| step_of(index, s))
        .collect()
}

fn step_of(index: usize, s: &Node) -> Step<'_> {
    Step {
        index,
        node: s,
        id: s.get("id").and_then(Node::as_str).map(str::to_string),
        uses: s.get("uses"),
        with: s
            .get("with")
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        Some(Input {
                            name: k.as_str()?.to_string(),
                            key: k,
                            value: v,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        env: env_vars(s.get("env")),
        run: s.get("run"),
        cond: s.get("if"),
        timeout: s.get("timeout-minutes"),
    }
}
