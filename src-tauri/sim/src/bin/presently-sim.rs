//! `presently-sim`: runs the Entra ID and Graph simulator until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use presently_sim::{serve_forever, SimConfig, DEFAULT_PORT, MAX_USERS};

const USAGE: &str = "\
Usage: presently-sim [options]

Runs a local simulator of Microsoft Entra ID sign-in and Microsoft Graph presence.

Options:
  --port P             port on 127.0.0.1 (default 8400; 0 picks a free one)
  --users N            directory size, 1 to 50000 (default 40)
  --seed S             seed of the organisation and its day (default 42)
  --rate-limit N       getPresencesByUserId requests per 30 s (default 1500)
  --poll-interval S    device-code polling interval in seconds (default 5)
  --no-auto-presence   presence changes only when set through the control API
  --auto-approve       approve every sign-in at once as the first user
  --tls                serve HTTPS with a certificate from a CA made at start
                       (fetch the CA from /_sim/ca_certificate)
  -h, --help           show this help";

fn parse_args(args: &[String]) -> Result<Option<(SimConfig, u16)>, String> {
    let mut config = SimConfig::default();
    let mut port = DEFAULT_PORT;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        let number = |text: String, what: &str| -> Result<u64, String> {
            text.parse::<u64>()
                .map_err(|_| format!("{name}: '{text}' is not {what}"))
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = number(value("a port number")?, "a port number")?;
                port = u16::try_from(v).map_err(|_| format!("--port: {v} is not a port number"))?;
            }
            "--users" => {
                let n = number(value("a number")?, "a number")? as usize;
                if n == 0 || n > MAX_USERS {
                    return Err(format!("--users must be between 1 and {MAX_USERS}"));
                }
                config.users = n;
            }
            "--seed" => {
                config.seed = number(value("a number")?, "a number")?;
                config.tenant_id = SimConfig::tenant_id_for_seed(config.seed);
            }
            "--rate-limit" => {
                let n = number(value("a number")?, "a number")?;
                config.rate_limit =
                    u32::try_from(n).map_err(|_| "--rate-limit is too large".to_owned())?;
            }
            "--poll-interval" => {
                config.poll_interval =
                    Duration::from_secs(number(value("seconds")?, "a number of seconds")?);
            }
            "--no-auto-presence" => config.auto_presence = false,
            "--auto-approve" => config.auto_approve = true,
            "--tls" => config.tls = true,
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(Some((config, port)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, port) = match parse_args(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("presently-sim: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve_forever(config, port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("presently-sim: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn options_set_the_config() {
        let (config, port) = parse_args(&args(&["--tls", "--port=0", "--auto-approve"]))
            .unwrap()
            .unwrap();
        assert!(config.tls && config.auto_approve);
        assert_eq!(port, 0);
        let (plain, port) = parse_args(&[]).unwrap().unwrap();
        assert!(!plain.tls);
        assert_eq!(port, DEFAULT_PORT);
        assert!(parse_args(&args(&["--https"]))
            .unwrap_err()
            .contains("unknown option"));
    }
}
