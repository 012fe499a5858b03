//! What a local run has read before it changes anything (the settings, the task, the
//! repository, the thread and the places its state lives), and the names derived from them.
use crate::cli::LocalArgs;
use crate::inputs::Settings;
use crate::workspace::worktree::Repository;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

/// Everything a local run reads before it changes anything; an error here is a usage error.
pub struct Request {
    pub settings: Settings,
    pub task: String,
    pub repo: Repository,
    pub thread: String,
    pub places: super::Places,
    pub branch: String,
}

impl Request {
    /// Reads the settings, the task (arguments, `--task-file`, stdin, or the workflow's
    /// `prompt`), the repository and the thread; hides every thread's sessions from the agent.
    pub async fn read(args: &LocalArgs) -> anyhow::Result<Self> {
        let mut settings = crate::inputs::Settings::from_inputs(&args.inputs)?;
        let file_text = match &args.task_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("--task-file {}: cannot read it: {e}", path.display())
            })?),
            None => None,
        };
        let stdin_text =
            if args.task.is_empty() && file_text.is_none() && !std::io::stdin().is_terminal() {
                let mut text = String::new();
                let _ = std::io::stdin().read_to_string(&mut text);
                Some(text)
            } else {
                None
            };
        // A workflow in agent mode brings its own task: its `prompt` input.
        let task = super::task_text(&args.task, file_text, stdin_text)
            .or_else(|e| settings.rules.prompt.clone().ok_or(e))?;
        let dir = match &args.repo {
            Some(d) => d.clone(),
            None => std::env::current_dir()?,
        };
        let repo = crate::workspace::worktree::Repository::find(&dir).await?;
        let thread = super::thread_name(args.thread.as_deref(), &task)?;
        let data = super::data_home(crate::inputs::process_env).ok_or_else(|| {
            anyhow::anyhow!("cannot tell where to keep local state: set HOME or XDG_DATA_HOME")
        })?;
        let places = super::Places::new(&data, &repo.top, &thread);
        // Every thread's conversation, of every repository: none of the agent's business.
        settings
            .isolation
            .hidden_paths
            .push(places.sessions.clone());
        let branch = branch_name(&settings.branch_prefix, &thread);
        crate::workspace::branch::check_branch_name(&branch)?;
        Ok(Self {
            settings,
            task,
            repo,
            thread,
            places,
            branch,
        })
    }
}

/// The thread's branch: `<branch_prefix>local-<thread>`.
pub fn branch_name(branch_prefix: &str, thread: &str) -> String {
    format!("{branch_prefix}local-{thread}")
}

/// Where the agent's stream-json of a local run is kept.
pub fn execution_file(thread: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "coworker-local-{thread}-{}.jsonl",
        std::process::id()
    ))
}
