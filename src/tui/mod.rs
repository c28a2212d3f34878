//! The screen: one event loop over keys, probe results, journal writes and the clock.
//!
//! Everything queued is drained, then the screen is drawn once — and only if something
//! changed. At idle the clock is the only change, once a second, and ratatui sends only the
//! cells that differ: a few bytes per second over SSH.

pub mod app;
pub mod draw;
mod input;
pub mod keys;
pub mod terminal;
pub mod theme;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};

pub use app::{App, Effect, MessageDraft, Overlay, Pane, Panes, UnsavedNote};
use input::Input;
pub use keys::KeyMap;
pub use theme::Theme;

use crate::board::{Board, Clock};
use crate::checklist::{self, Checklist};
use crate::config::Config;
use crate::incident::Incident;
use crate::journal::{DirError, Sharing, dir};
use crate::session::{Command, Opening, ReplayControl, Role, Session, Update};

/// How long quitting waits for the session to journal the departure.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);

/// What the screen shows besides the board.
#[derive(Debug, Clone, Default)]
pub struct Look {
    /// Shown above everything (the demo's, a viewer's).
    pub banner: Option<String>,
    /// Public update cadence, when the checklist has no repeating public item.
    pub update_every: Option<Duration>,
    /// The zone public messages state their times in.
    pub public_offset: Option<chrono::FixedOffset>,
}

/// Everything the screen needs that can fail, checked before the terminal is touched.
pub struct Setup {
    pub theme: Theme,
    pub keys: KeyMap,
    pub checklist: Option<Checklist>,
}

impl Setup {
    pub fn from_config(
        config: &Config,
        theme_override: Option<&str>,
        checklist_override: Option<&str>,
    ) -> anyhow::Result<Setup> {
        let theme =
            Theme::load(theme_override.or(config.theme.as_deref()).unwrap_or("dark")).map_err(anyhow::Error::msg)?;
        let keys = KeyMap::from_config(config).map_err(anyhow::Error::msg)?;
        let checklist = checklist::load(checklist_override.or(config.checklist.as_deref()).unwrap_or("default"))?;
        Ok(Setup { theme, keys, checklist: Some(checklist) })
    }
}

/// Where this operator's note draft is kept: beside the journal, one per author.
pub fn draft_path(journal: &Path, author: &str) -> PathBuf {
    let who: String =
        author.chars().map(|c| if c.is_ascii_alphanumeric() || "@.-_".contains(c) { c } else { '_' }).collect();
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".draft-{who}"));
    journal.with_file_name(name)
}

/// A draft larger than this is not restored: notes are journal lines, and no line is longer.
const MAX_DRAFT_BYTES: u64 = crate::journal::MAX_LINE_BYTES as u64;

/// Keeps the draft on disk, private to its author (0600): written to a temporary file of our
/// own (unique, created exclusively, so nobody can plant a link where we write), then renamed,
/// so a crash never leaves half a draft.
fn save_draft(path: &Path, text: &str) -> std::io::Result<()> {
    if text.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    Ok(dir::replace(path, text.as_bytes(), &Sharing::PRIVATE)?)
}

/// Puts the draft this user left back in the notes. Only a regular file owned by the user
/// running warroom is read, never through a link: in a shared directory another member could
/// plant a "draft" (or a link to this user's private file) under this user's name.
fn restore_draft(app: &mut App, path: &Path) {
    match dir::read_owned(path, MAX_DRAFT_BYTES) {
        Ok(bytes) => {
            app.set_draft(&String::from_utf8_lossy(&bytes));
            app.flash = Some("your unsaved note draft was restored".into());
        }
        Err(DirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => app.flash = Some(crate::sanitize::sanitize_str(&format!("draft not restored: {e}"), 1000)),
    }
}

/// Runs the screen over a session opened as `opening` says, until the operator quits.
pub fn run(opening: Opening, setup: Setup, look: Look) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let replaying = opening.is_replay();
        let mut session = Session::start(opening);
        let Some(opened) = session.recv().await else { anyhow::bail!("the session ended before it opened") };
        let Update::Opened { journal, role, .. } = &opened else { anyhow::bail!("the session did not open") };
        let draft = draft_path(Path::new(journal), &session.author);
        let read_only = *role == Role::Viewer;
        let mut board = Board::new(Incident::default(), Vec::new(), setup.checklist, Clock::system());
        board.update_every = look.update_every;
        if let Some(offset) = look.public_offset {
            board.public_offset = offset;
        }
        let mut app = App::new(board, setup.theme, setup.keys);
        app.read_only = read_only;
        app.banner = look.banner;
        app.on_update(opened);
        // A viewer and a replay write nothing at all, not even a draft.
        if !read_only {
            restore_draft(&mut app, &draft);
        }
        let mut term = terminal::enter()?;
        let outcome = event_loop(&mut app, &mut session, &mut term, &draft, replaying).await;
        // Flush before restoring: the journal gets the departure (and whatever it can still
        // take); the draft keeps every note it did not. A viewer keeps no draft.
        for update in session.leave(LEAVE_WITHIN).await {
            app.on_update(update);
        }
        if !read_only {
            let _ = save_draft(&draft, &app.draft_to_keep());
        }
        drop(term);
        terminal::leave();
        outcome
    })
}

/// Keys, the session and signals in one select; then draw once, if anything changed.
async fn event_loop(
    app: &mut App,
    session: &mut Session,
    term: &mut terminal::Term,
    draft: &Path,
    replaying: bool,
) -> anyhow::Result<()> {
    let mut keys = input::spawn()?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Input comes from its own thread, which does not see resizes: redraw on SIGWINCH here.
    let mut resized = signal(SignalKind::window_change())?;
    let mut dirty = true;
    loop {
        if dirty {
            terminal::draw(term, |f| draw::draw(f, app))?;
            dirty = false;
            // Test builds only: prove the terminal is restored after a panic.
            #[cfg(debug_assertions)]
            if std::env::var_os("WARROOM_TEST_PANIC").is_some() {
                panic!("forced panic (WARROOM_TEST_PANIC)");
            }
        }
        let mut effects = Vec::new();
        tokio::select! {
            input = keys.recv() => match input {
                Some(Input::Event(event)) => {
                    effects = on_terminal_event(app, session, event, replaying);
                    dirty = true;
                }
                // Nobody is left to see the screen: leave as on SIGHUP.
                Some(Input::HungUp) | None => return Ok(()),
                Some(Input::Failed(why)) => anyhow::bail!(why),
            },
            _ = resized.recv() => dirty = true,
            update = session.recv() => match update {
                Some(update) => dirty |= app.on_update(update),
                None => return Ok(()),
            },
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
        }
        // Drain whatever else is queued, then draw once.
        while let Some(update) = session.try_recv() {
            dirty |= app.on_update(update);
        }
        if app.take_draft_changed() {
            effects.push(Effect::SaveDraft(app.draft_to_keep()));
        }
        for effect in effects {
            if carry_out(app, session, draft, effect, term) {
                return Ok(());
            }
        }
    }
}

/// A key, a click or a paste: what the screen makes of it.
fn on_terminal_event(app: &mut App, session: &Session, event: TermEvent, replaying: bool) -> Vec<Effect> {
    match event {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => match replay_control(app, k).filter(|_| replaying) {
            Some(control) => {
                session.send(Command::Replay(control));
                Vec::new()
            }
            None => app.on_key(k),
        },
        TermEvent::Mouse(m) => app.on_mouse(m),
        TermEvent::Paste(text) if app.editing => {
            app.notes.insert_str(&text);
            vec![Effect::SaveDraft(app.draft_to_keep())]
        }
        _ => Vec::new(),
    }
}

/// Replay's own keys; everything else goes to the screen (which is read-only).
fn replay_control(app: &App, k: KeyEvent) -> Option<ReplayControl> {
    if app.overlay.is_some() {
        return None;
    }
    Some(match k.code {
        KeyCode::Char(' ') => ReplayControl::TogglePause,
        KeyCode::Char('n') => ReplayControl::NextEvent,
        KeyCode::Char('.') => ReplayControl::Step,
        KeyCode::Char('+') | KeyCode::Char('=') => ReplayControl::Faster,
        KeyCode::Char('-') => ReplayControl::Slower,
        _ => return None,
    })
}

/// Does what the screen asked. Returns true to quit.
fn carry_out(app: &mut App, session: &Session, draft: &Path, effect: Effect, term: &mut terminal::Term) -> bool {
    match effect {
        Effect::Quit => return true,
        Effect::Append(bodies) => session.send(Command::Append(bodies)),
        Effect::RunNow(row) => session.send(Command::RunNow(row)),
        Effect::SetPaused(row, paused) => session.send(Command::SetPaused { row, paused }),
        Effect::Send { item, channel, audience, text, next_update } => {
            session.send(Command::Send { item, channel, audience, text, next_update })
        }
        Effect::SaveDraft(_) if app.read_only => {}
        Effect::SaveDraft(text) => {
            if let Err(e) = save_draft(draft, &text) {
                app.flash = Some(format!("could not keep the draft on disk: {e}"));
            }
        }
        Effect::Copy(text) => {
            let out = term.backend_mut();
            let _ = out.write_all(&terminal::osc52(&text)).and_then(|_| out.flush());
        }
    }
    false
}
