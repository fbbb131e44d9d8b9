/// Scoring sentences failed: the model could not be loaded or run, or the scorer process could not
/// be reached. The message says what to do next.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScoreError {
    /// The model (or its process) reported a failure; its message already names the file and the fix.
    #[error("{0}")]
    Model(String),
    /// The scorer process could not be started or spoke out of turn.
    #[error("the tone model's process {0}")]
    Process(String),
}
