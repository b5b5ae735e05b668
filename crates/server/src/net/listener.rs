//! The accept loop: hyper's HTTP/1 connections with a header-read timeout,
//! an idle timeout, and caps on open connections (in all and per client
//! address), so that a client holding sockets slows only itself.

use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, body::Body};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::ServiceExt;

use super::limits::{ClientAddr, Limits};

/// Descriptors kept free of connections: the database, logs, the WAL.
const SPARE_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard one and answers how many
/// connections fit below it.
pub fn connection_ceiling(wanted: usize) -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let fit = soft.saturating_sub(SPARE_FILES).max(16);
    wanted.min(usize::try_from(fit).unwrap_or(usize::MAX))
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// One client's hold on a connection; released on drop.
struct ClientSlot {
    clients: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn take(clients: &Arc<PerClient>, ip: IpAddr, cap: usize) -> Option<ClientSlot> {
        let mut open = clients.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(ip).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot { clients: clients.clone(), ip })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A socket that notes when it last moved a byte.
struct Tracked {
    inner: TcpStream,
    started: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Tracked {
    fn touch(&self) {
        self.last_ms.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn refused(reason: &'static str) {
    metrics::counter!("revtrace_connections_refused_total", "reason" => reason).increment(1);
}

/// Accepts until `shutdown` resolves, then lets open connections finish
/// their requests (up to the request deadline) and returns.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Arc<Limits>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ceiling = connection_ceiling(limits.max_connections);
    let open = Arc::new(Semaphore::new(ceiling));
    let clients = Arc::new(PerClient::default());
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of descriptors or a connection reset before accept:
                // pause briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            refused("max_connections");
            continue;
        };
        let slot = if limits.is_trusted_proxy(peer.ip()) {
            None
        } else {
            match PerClient::take(&clients, peer.ip(), limits.max_connections_per_client) {
                Some(slot) => Some(slot),
                None => {
                    refused("per_client");
                    continue;
                }
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(tcp, peer, router.clone(), limits.clone(), stopping.clone(), (permit, slot)));
    }
    let _ = stop.send(true);
    // Every open connection holds a permit: all back means all finished.
    let drained = open.acquire_many(u32::try_from(ceiling).unwrap_or(u32::MAX));
    let _ = tokio::time::timeout(crate::REQUEST_DEADLINE + Duration::from_secs(5), drained).await;
    Ok(())
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Arc<Limits>,
    mut stopping: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, Option<ClientSlot>),
) {
    let last_ms = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let io = TokioIo::new(Tracked { inner: tcp, started, last_ms: last_ms.clone() });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ClientAddr(peer));
        router.clone().oneshot(request.map(Body::new))
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let mut tick = tokio::time::interval(Duration::from_secs(1).min(limits.idle_timeout));
    let idle_ms = limits.idle_timeout.as_millis() as u64;
    let mut draining = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            changed = stopping.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = tick.tick() => {
                let idle = (started.elapsed().as_millis() as u64).saturating_sub(last_ms.load(Ordering::Relaxed));
                if idle >= idle_ms {
                    metrics::counter!("revtrace_connections_closed_idle_total").increment(1);
                    break;
                }
            }
        }
    }
}
