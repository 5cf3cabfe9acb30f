//! A writer like an application's: inserts rows one by one into `test.t` on
//! whichever lab server accepts writes, and records every acknowledged id and
//! when it was acknowledged (to count lost rows and measure write gaps).

use mysql_async::prelude::Queryable;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the writer saw.
#[derive(Debug, Default, Clone)]
pub(crate) struct Acks {
    /// (id, host that acknowledged it, when).
    pub rows: Vec<(u64, String, Instant)>,
}

impl Acks {
    pub(crate) fn ids(&self) -> Vec<u64> {
        self.rows.iter().map(|r| r.0).collect()
    }

    /// The longest time between two consecutive acknowledgements.
    pub(crate) fn longest_gap(&self) -> Duration {
        self.rows
            .windows(2)
            .map(|w| w[1].2.duration_since(w[0].2))
            .max()
            .unwrap_or_default()
    }

    /// When the first row was acknowledged by `host`.
    pub(crate) fn first_on(&self, host: &str) -> Option<Instant> {
        self.rows.iter().find(|r| r.1 == host).map(|r| r.2)
    }
}

pub(crate) struct Writer {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Acks>>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts writing ids from `first_id` on, trying `hosts` in order.
    pub(crate) fn start(hosts: Vec<String>, first_id: u64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Acks::default()));
        let (s, a) = (stop.clone(), acks.clone());
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(write_loop(hosts, first_id, s, a));
        });
        Writer {
            stop,
            acks,
            handle: Some(handle),
        }
    }

    pub(crate) fn acks(&self) -> Acks {
        self.acks.lock().unwrap().clone()
    }

    /// Stops and returns everything acknowledged.
    pub(crate) fn finish(mut self) -> Acks {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.acks()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

async fn connect(host: &str) -> Option<mysql_async::Conn> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(3306)
        // The application's account: read_only applies to it, as to a real application.
        .user(Some("app"))
        .pass(Some("apppass"))
        .prefer_socket(false);
    let mut conn = tokio::time::timeout(Duration::from_millis(500), mysql_async::Conn::new(opts))
        .await
        .ok()?
        .ok()?;
    let ro: Option<u8> = conn.query_first("SELECT @@read_only").await.ok()?;
    (ro == Some(0)).then_some(conn)
}

async fn write_loop(
    hosts: Vec<String>,
    first_id: u64,
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Acks>>,
) {
    let mut id = first_id;
    let mut current: Option<(String, mysql_async::Conn)> = None;
    while !stop.load(Ordering::SeqCst) {
        let Some((host, conn)) = current.as_mut() else {
            for h in &hosts {
                if let Some(c) = connect(h).await {
                    current = Some((h.clone(), c));
                    break;
                }
            }
            if current.is_none() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            continue;
        };
        let insert = conn.exec_drop(
            "INSERT INTO test.t (id, v) VALUES (?, ?)",
            (id, format!("row {id}")),
        );
        match tokio::time::timeout(Duration::from_millis(1000), insert).await {
            Ok(Ok(())) => {
                acks.lock()
                    .unwrap()
                    .rows
                    .push((id, host.clone(), Instant::now()));
                id += 1;
            }
            // A duplicate means an earlier unacknowledged attempt did commit: move on.
            Ok(Err(mysql_async::Error::Server(e))) if e.code == 1062 => id += 1,
            _ => current = None,
        }
    }
}
