//! The screen: one event loop over keys, probe results, journal writes and the clock.
//!
//! Everything queued is drained, then the screen is drawn once — and only if something
//! changed. At idle the clock is the only change, once a second, and ratatui sends only the
//! cells that differ: a few bytes per second over SSH.

pub mod app;
pub mod attention;
mod clipboard;
pub mod contrast;
mod draft;
pub mod draw;
mod input;
pub mod keys;
pub mod picker;
mod places;
pub mod terminal;
pub mod theme;
mod timeline;
mod verbs;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};

pub use app::{App, Effect, MessageDraft, Overlay, Pane, Panes, UnsavedNote};
use draft::Keeper;
pub use draft::draft_path;
use input::Input;
pub use keys::KeyMap;
pub use theme::Theme;

use crate::board::{Board, Clock};
use crate::checklist::{self, Checklist};
use crate::config::Config;
use crate::incident::Incident;
use crate::session::{Command, Opening, ReplayControl, Role, Session, Update};

/// How long quitting waits for the session to journal the departure.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);
/// How long a footer message stays: long enough to be read on coming back to the screen,
/// not so long that it describes a state long gone.
const FLASH_FOR: Duration = Duration::from_secs(60);

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
    /// `[attention]`: bell and/or title on news; off unless configured.
    pub attention: crate::config::Attention,
    /// `[screen] checklist_order`.
    pub checklist_order: crate::checklist::Order,
    /// Where each check run from several places runs (`[[check]] from`), by check.
    pub places: std::collections::BTreeMap<String, Vec<String>>,
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
        let checklist_order = config.screen.checklist_order;
        let places = config.vantage.placements.iter().map(|(check, p)| (check.clone(), p.from.clone())).collect();
        Ok(Setup { theme, keys, checklist: Some(checklist), attention: config.attention, checklist_order, places })
    }
}

/// Runs the screen over a session opened as `opening` says, until the operator quits.
pub fn run(opening: Opening, setup: Setup, look: Look) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let replaying = opening.is_replay();
        let session = Session::start(opening);
        run_session(session, setup, look, None, replaying).await
    })
}

/// Runs the screen over a session already started (on this host, or bridged from another:
/// `warroom --remote`), until the operator quits. The draft is kept beside the journal, or
/// beside `drafts_beside` when the journal is not on this host.
pub async fn run_session(
    mut session: Session,
    setup: Setup,
    look: Look,
    drafts_beside: Option<std::path::PathBuf>,
    replaying: bool,
) -> anyhow::Result<()> {
    let Some(opened) = session.recv().await else { anyhow::bail!("the session ended before it opened") };
    let Update::Opened { journal, role, .. } = &opened else { anyhow::bail!("the session did not open") };
    let journal_path = std::path::PathBuf::from(journal);
    let beside = drafts_beside.unwrap_or_else(|| Path::new(journal).to_path_buf());
    let mut keeper = Keeper::new(&beside, &session.author);
    let read_only = *role == Role::Viewer;
    let mut board = Board::new(Incident::default(), Vec::new(), setup.checklist, Clock::system());
    board.update_every = look.update_every;
    board.places = setup.places;
    if let Some(offset) = look.public_offset {
        board.public_offset = offset;
    }
    let mut app = App::new(board, setup.theme, setup.keys);
    app.read_only = read_only;
    app.me = session.author.clone();
    app.journal = Some(journal_path.clone());
    app.banner = look.banner;
    app.checklist_order = setup.checklist_order;
    app.on_update(opened);
    // A viewer and a replay write nothing at all, not even a draft.
    if !read_only {
        keeper.restore(&mut app);
    }
    let mut term = terminal::enter()?;
    // A replay's news is history: it calls for nobody's attention.
    let wanted = if replaying { crate::config::Attention::default() } else { setup.attention };
    let mut watch = attention::Watch::new(wanted);
    let outcome = event_loop(&mut app, &mut session, &mut term, &mut keeper, &mut watch, replaying).await;
    // Flush before restoring: the journal gets the departure (and whatever it can still
    // take); the draft keeps every note it did not. A viewer keeps no draft.
    for update in session.leave(LEAVE_WITHIN).await {
        app.on_update(update);
    }
    let kept = app.draft_to_keep();
    let lost = if read_only { None } else { keeper.write(&kept) };
    drop(term);
    terminal::leave();
    // The last resort, once the terminal is the operator's again: notes no disk would take
    // are printed, to be copied before they are gone.
    if let Some(why) = lost.filter(|_| !kept.trim().is_empty()) {
        eprintln!("warroom: {why}");
        eprintln!("warroom: these notes are NOT saved anywhere; copy them now:\n---");
        eprintln!("{}\n---", crate::sanitize::sanitize_multiline(&kept, kept.len() + 1));
    }
    if app.promote_on_exit && outcome.is_ok() {
        return carry_on_as_primary(&journal_path, &session.author);
    }
    outcome
}

/// `P` on a mirror's copy, confirmed, once the viewer has left: promotes the copy, then
/// starts warroom again in this process's place, on the copy with the config the primary
/// shipped, so this screen polls and sends from here on.
fn carry_on_as_primary(journal: &Path, author: &str) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    // Confirmed on the screen, which asked again if the primary was heard lately.
    let done = crate::mirror::promote(journal, author, true)?;
    eprintln!(
        "warroom: {}: promoted; carrying on as the primary",
        crate::sanitize::for_terminal(&journal.display().to_string())
    );
    let mut args = std::env::args_os().skip(1).peekable();
    let mut kept = Vec::new();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--read-only" || text.starts_with("--config=") || (text.starts_with("-c") && text.len() > 2) {
            continue;
        }
        if text == "-c" || text == "--config" {
            args.next();
            continue;
        }
        kept.push(arg);
    }
    let program = std::env::current_exe()?;
    let err = std::process::Command::new(program).args(kept).arg("-c").arg(&done.config).exec();
    anyhow::bail!(
        "promoted, but could not start warroom again: {err}; run warroom -c {} -j {}",
        done.config.display(),
        journal.display()
    )
}

/// Keys, the session and signals in one select; then draw once, if anything changed.
async fn event_loop(
    app: &mut App,
    session: &mut Session,
    term: &mut terminal::Term,
    keeper: &mut Keeper,
    watch: &mut attention::Watch,
    replaying: bool,
) -> anyhow::Result<()> {
    let mut keys = input::spawn()?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Input comes from its own thread, which does not see resizes: redraw on SIGWINCH here.
    let mut resized = signal(SignalKind::window_change())?;
    let mut dirty = true;
    // The row whose details are shown, as the session was last told.
    let mut inspected: Option<String> = None;
    // The footer message shown, and when it goes.
    let mut flash: Option<(String, tokio::time::Instant)> = None;
    loop {
        if flash.as_ref().map(|(text, _)| text) != app.flash.as_ref() {
            flash = app.flash.clone().map(|text| (text, tokio::time::Instant::now() + FLASH_FOR));
        }
        if dirty {
            call_attention(watch, app, term);
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
            _ = until(flash.as_ref().map(|(_, at)| *at)) => {
                app.flash = None;
                dirty = true;
            }
            _ = until(keeper.due_at()) => {
                app.draft_failed = keeper.flush();
                if let Some(why) = &app.draft_failed {
                    app.flash = Some(why.clone());
                }
                dirty = true;
            }
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
        let inspecting = match &app.overlay {
            Some(app::Overlay::CheckDetail(name)) => Some(name.clone()),
            _ => None,
        };
        if inspecting != inspected {
            inspected = inspecting.clone();
            session.send(Command::Inspect(inspecting));
        }
        for effect in effects {
            if carry_out(app, session, keeper, effect, term) {
                return Ok(());
            }
        }
    }
}

/// The bell and/or the title, when `[attention]` asks for them and there is news.
fn call_attention(watch: &mut attention::Watch, app: &App, term: &mut terminal::Term) {
    let bytes = watch.look(&app.board);
    if !bytes.is_empty() {
        let out = term.backend_mut();
        let _ = out.write_all(&bytes).and_then(|_| out.flush());
    }
}

/// Resolves at `at`, or never.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
fn carry_out(app: &mut App, session: &Session, keeper: &mut Keeper, effect: Effect, term: &mut terminal::Term) -> bool {
    match effect {
        Effect::Quit => return true,
        Effect::Append(bodies) => session.send(Command::Append(bodies)),
        Effect::RunNow(row) => session.send(Command::RunNow(row)),
        Effect::SetPaused(row, paused) => session.send(Command::SetPaused { row, paused }),
        Effect::Send { item, channel, audience, text, next_update } => {
            // Sent from the confirmation, which shows any prompt left unfilled.
            session.send(Command::Send { item, channel, audience, text, next_update, confirmed: true })
        }
        Effect::SaveDraft(_) if app.read_only => {}
        Effect::SaveDraft(text) => keeper.keep(text),
        Effect::Copy { what, text } => {
            let out = term.backend_mut();
            let sent = out.write_all(&terminal::osc52(&text)).and_then(|_| out.flush());
            app.flash = Some(clipboard::said(what, sent.is_ok(), clipboard::to_tmux(&text)));
        }
    }
    false
}
