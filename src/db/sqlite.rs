//! SQLite's file settings: pragmas on every connection, memory-mapped
//! reading, bulk-load tuning and checkpoints of the write-ahead log in the
//! background.

use super::*;

/// Applied on every pooled SQLite connection, busy timeout first.
pub(super) fn apply_sqlite_pragmas(conn: &mut diesel::SqliteConnection) -> QueryResult<()> {
    diesel::sql_query(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")).execute(conn)?;
    diesel::sql_query("PRAGMA foreign_keys = ON").execute(conn)?;
    diesel::sql_query("PRAGMA synchronous = FULL").execute(conn)?;
    Ok(())
}

/// For a connection that reads through a large part of the database (the
/// readers of a re-evaluation): on SQLite, pages are read through a memory
/// map of the file instead of being copied out of the kernel's cache one
/// `pread` at a time (SQLite drops a reader's own cache whenever another
/// connection commits, so the same pages are read again and again); `false`
/// turns the map off again. The map is capped by SQLite's build (2 GB by
/// default); the rest of a larger file is read as before. Nothing to do on
/// PostgreSQL.
pub fn map_for_reading(conn: &mut DbConnection, on: bool) -> QueryResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        let bytes: u64 = if on { 1 << 40 } else { 0 };
        diesel::sql_query(format!("PRAGMA mmap_size = {bytes}")).execute(c)?;
    }
    Ok(())
}

/// For a long bulk job on its own connection (re-evaluation, seeding): on
/// SQLite a page cache of `megabytes`, so that the indexes the job probes
/// stay in memory instead of being read from the file again and again.
/// Nothing to do on PostgreSQL, whose buffers are shared.
pub fn tune_for_bulk(conn: &mut DbConnection, megabytes: u32) -> QueryResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query(format!("PRAGMA cache_size = -{}", u64::from(megabytes) * 1024)).execute(c)?;
    }
    Ok(())
}

/// For a long bulk write on SQLite: the copying of the write-ahead log into
/// the database file moves off the writing thread. The writing connection
/// stops checkpointing after its commits, and a thread on a connection of its
/// own runs a passive checkpoint (which neither waits for nor blocks the
/// writer) every `CHECKPOINT_EVERY`, so the copying overlaps with writing
/// instead of adding to each commit. `finish` stops the thread and gives the
/// writer its automatic checkpoints back; dropped without `finish` (an early
/// return, a panic), the thread still stops. None on PostgreSQL, or when the
/// file cannot be opened a second time (the writer then checkpoints as usual).
pub struct BackgroundCheckpoints {
    pub(super) stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    pub(super) thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the background thread checkpoints during a bulk write.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// SQLite's default: checkpoint when the log reaches this many pages.
pub(super) const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 1000;

#[derive(QueryableByName)]
pub(super) struct DatabaseFile {
    #[diesel(sql_type = Text)]
    pub(super) file: String,
}

impl BackgroundCheckpoints {
    pub fn start(conn: &mut DbConnection) -> Result<Option<BackgroundCheckpoints>, AppError> {
        let DbConnection::Sqlite(c) = conn else { return Ok(None) };
        let file: Option<DatabaseFile> =
            diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'").get_result(c).optional()?;
        let Some(file) = file.filter(|f| !f.file.is_empty()) else { return Ok(None) };
        let mut own = match DatabaseUrl::Sqlite(PathBuf::from(&file.file)).connect() {
            Ok(own) => own,
            Err(e) => {
                log::warn!("no connection for background checkpoints ({e}); the writer checkpoints as usual");
                return Ok(None);
            }
        };
        diesel::sql_query("PRAGMA wal_autocheckpoint = 0").execute(c)?;
        let stop = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::spawn(move || {
            let (lock, wake) = &*signal;
            let Ok(mut stopped) = lock.lock() else { return };
            while !*stopped {
                stopped = match wake.wait_timeout(stopped, CHECKPOINT_EVERY) {
                    Ok((guard, _)) => guard,
                    Err(_) => return,
                };
                if *stopped {
                    break;
                }
                if let Err(e) = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut own) {
                    log::warn!("background checkpoint failed: {e}");
                }
            }
        });
        Ok(Some(BackgroundCheckpoints { stop, thread: Some(thread) }))
    }

    /// Stops the thread and restores the writer's automatic checkpoints.
    pub fn finish(mut self, conn: &mut DbConnection) -> Result<(), AppError> {
        self.stop_thread();
        if let DbConnection::Sqlite(c) = conn {
            diesel::sql_query(format!("PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}")).execute(c)?;
        }
        Ok(())
    }

    pub(super) fn stop_thread(&mut self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the background checkpoint thread panicked");
            }
        }
    }
}

impl Drop for BackgroundCheckpoints {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
