//! moto is started on a free loopback port, answers, and is gone after drop, also when the
//! owning test panics.

use std::net::TcpStream;
use std::time::Duration;

use local_account::MotoServer;

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

#[test]
fn moto_is_killed_on_drop_even_when_the_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let moto = rt.block_on(MotoServer::start()).unwrap();
        assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
        tx.send(moto.port()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        panic!("simulated test failure while moto runs");
    });
    let port = rx.recv().unwrap();
    assert!(handle.join().is_err(), "the thread panicked");
    // The port is released once the process is gone (give the OS a moment).
    let mut gone = false;
    for _ in 0..50 {
        if !answers(port) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gone, "moto still answers on {port} after the panic");
}

#[tokio::test]
async fn two_servers_run_side_by_side_on_their_own_ports() {
    let (a, b) = tokio::join!(MotoServer::start(), MotoServer::start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port(), b.port());
    assert!(answers(a.port()) && answers(b.port()));
    let port = a.port();
    drop(a);
    assert!(!answers(port));
    assert!(answers(b.port()));
}
