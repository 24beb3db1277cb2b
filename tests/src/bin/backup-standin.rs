//! `backup-standin [--addr 127.0.0.1] [--port P] [--region R] [--account-id A]`
//!
//! Runs the AWS Backup stand-in (test infrastructure; see `local_account::standin`) until
//! SIGTERM or Ctrl-C. Prints `listening on http://ADDR:PORT` on stdout first, so scripts
//! can read the endpoint. Binds loopback addresses only; port 0 (the default) picks a
//! free port.

use local_account::standin::{Options, StandIn};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

const USAGE: &str = "usage: backup-standin [--addr 127.0.0.1] [--port P] [--region us-east-1] [--account-id 123456789012]";

fn parse_args(args: &[String]) -> Result<(SocketAddr, Options), String> {
    let mut ip: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut port: u16 = 0;
    let mut options = Options::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--addr" => {
                let v = value("--addr")?;
                ip = v
                    .parse()
                    .map_err(|e| format!("--addr {v:?} is not an IP address: {e}"))?;
            }
            "--port" => {
                let v = value("--port")?;
                port = v
                    .parse()
                    .map_err(|e| format!("--port {v:?} is not a port number: {e}"))?;
            }
            "--region" => options.region = value("--region")?,
            "--account-id" => {
                let v = value("--account-id")?;
                if v.len() != 12 || !v.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!("--account-id {v:?} is not a 12-digit account id"));
                }
                options.account_id = v;
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if !ip.is_loopback() {
        return Err(format!(
            "--addr {ip} is not a loopback address; the stand-in only serves loopback"
        ));
    }
    Ok((SocketAddr::new(ip, port), options))
}

async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, options) = match parse_args(&args) {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("backup-standin: {msg}");
            return ExitCode::from(2);
        }
    };
    let standin = match StandIn::start_with(addr, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("backup-standin: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", standin.endpoint());
    let _ = std::io::stdout().flush();
    if let Err(e) = wait_for_signal().await {
        eprintln!("backup-standin: cannot wait for signals: {e}");
        return ExitCode::FAILURE;
    }
    drop(standin);
    ExitCode::SUCCESS
}
