//! Actions are data: input handlers return them, and one place (`Workbench::apply`) carries
//! them out by calling the app use cases.

/// How loud a status message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    /// Close the overlay, leave editing, or pop the screen.
    Back,
    FocusNext,
    Palette,
    Help,
    Filter,
    /// Open a screen by its `:name`.
    Open(&'static str),
    /// Open a job of the project tree in the graph editor.
    OpenJob(String),
    /// Open the live view of instance `id` above the active screen.
    OpenInstance(i64),
    /// Run a named action of the focused pane (from the keymap or the palette).
    Perform(String),
    Status(Level, String),
    /// A screen wrote to the metadata store: refresh the role and counters, tell the
    /// other screens, and show the message.
    StoreWritten(Level, String),
    /// A tree entry changed on disk: re-read the tree and select this entry.
    TreeChanged(Option<String>),
}

/// What a pane did with a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not for me: let the global bindings have it.
    Ignored,
    Consumed,
    Action(Action),
}

impl From<Action> for Outcome {
    fn from(a: Action) -> Self {
        Outcome::Action(a)
    }
}
