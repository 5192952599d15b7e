//! The `ombud` command: serve the API, bootstrap an installation, migrate, back up, check settings.

mod config;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use ombud_server::{AppState, Settings};
use ombud_store::Store;

#[derive(Parser)]
#[command(name = "ombud", version, about = "Self-hosted privacy data platform")]
struct Cli {
    /// TOML settings file; `OMBUD_*` environment variables override it
    /// (nested keys joined by `__`, e.g. OMBUD_AUTH__ACCESS_TOKEN_TTL).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Directory of the embedded SQLite database and generated keys [default: ./ombud-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// PostgreSQL connection URL (postgres://user:password@host:5432/database);
    /// without it ombud uses the embedded SQLite database in --data-dir.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the auth, GraphQL and operations endpoints.
    Serve {
        /// Address and port to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Create (or reuse) a staff user, a data controller they own, and a personal access token.
    Bootstrap {
        /// Email address of the staff user.
        #[arg(long)]
        email: String,
        /// Title of the new data controller.
        #[arg(long)]
        controller: String,
        /// Read a password for email-password sign-in from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Print exactly one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the SQLite database, also while ombud serves it.
    Backup {
        /// File to write the copy to; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Inspect settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective settings as TOML, with secrets redacted.
    Check,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OMBUD_LOG")
        // PostgreSQL notices such as "relation already exists, skipping" on
        // every migration check are not worth an info line.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("OMBUD_LOG_FORMAT").is_ok_and(|format| format == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => *listen,
        _ => None,
    };
    let mut settings = config::load(cli.config.as_deref(), cli.data_dir.as_deref(), listen)?;
    if let Some(url) = cli.database_url {
        settings.database.url = Some(ombud_server::Secret::new(url));
    }

    match cli.command {
        Command::Serve { .. } => serve(settings).await,
        Command::Bootstrap {
            email,
            controller,
            password_stdin,
            json,
        } => bootstrap(settings, &email, &controller, password_stdin, json).await,
        Command::Migrate => {
            let store = open_store(&settings).await?;
            let applied = store.migrate().await?;
            if applied.is_empty() {
                println!("the database is up to date");
            } else {
                println!("applied migrations {applied:?}");
            }
            Ok(())
        }
        Command::Backup { output } => backup(&settings, &output).await,
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            let text = toml::to_string_pretty(&settings.redacted())
                .context("cannot print the settings")?;
            print!("{text}");
            Ok(())
        }
    }
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = settings.open_store().await?;
    tracing::info!(backend = store.dialect().name(), "opened the database");
    Ok(store)
}

/// Opens the store, creating the schema of a new database and refusing an
/// existing one that is behind this build.
async fn open_ready_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = open_store(settings).await?;
    if store.applied_migrations().await?.is_empty() {
        store.migrate().await?;
    } else {
        store.check_migrations().await?;
    }
    Ok(store)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = open_ready_store(&settings).await?;
    let listen = settings.listen;
    let state = AppState::new(settings, store.clone()).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "ombud is listening");
    ombud_server::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("ombud stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "cannot listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down, finishing in-flight requests");
}

/// Copies the database with `VACUUM INTO` on a connection of this process,
/// then checks the copy with `PRAGMA integrity_check`.
async fn backup(settings: &Settings, output: &Path) -> anyhow::Result<()> {
    if settings.database.url.is_some() {
        bail!(
            "ombud backup copies the embedded SQLite database; this installation uses \
             PostgreSQL, so back it up with pg_dump as docs/deployment.md describes"
        );
    }
    // `symlink_metadata` also detects a dangling symbolic link, which SQLite
    // would follow and write through.
    if output.symlink_metadata().is_ok() {
        bail!(
            "the output file {} already exists, and ombud backup never overwrites a file. \
             Pass a new path or move the existing file away",
            output.display()
        );
    }
    let database = settings.data_dir.join("ombud.sqlite3");
    if !database.exists() {
        bail!(
            "there is no database at {}. Pass the --data-dir of the installation to back up",
            database.display()
        );
    }

    let bytes = ombud_store::backup_sqlite(&settings.data_dir, output)
        .await
        .with_context(|| {
            format!(
                "cannot copy the database {} to {}",
                database.display(),
                output.display()
            )
        })?;

    let messages = ombud_store::check_integrity(output)
        .await
        .with_context(|| format!("cannot check the copy {}", output.display()))?;
    if messages != ["ok"] {
        bail!(
            "the copy {} failed PRAGMA integrity_check and must not be restored. \
             It is kept for inspection. SQLite reported: {}",
            output.display(),
            messages.join("; ")
        );
    }

    println!("wrote {bytes} bytes to {}", output.display());
    Ok(())
}

async fn bootstrap(
    settings: Settings,
    email: &str,
    controller: &str,
    password_stdin: bool,
    json: bool,
) -> anyhow::Result<()> {
    let store = open_ready_store(&settings).await?;
    let password_hash = if password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("cannot read the password from standard input")?;
        let password = password.trim_end_matches(['\r', '\n']).to_owned();
        ombud_auth::validate_new_password(&password)?;
        let hasher = ombud_auth::PasswordHasher::new(1)?;
        Some(
            hasher
                .hash(ombud_auth::SecretPassword::new(password))
                .await?,
        )
    } else {
        None
    };
    let created = ombud_server::accounts::bootstrap(
        &store,
        email,
        controller,
        password_hash,
        settings.auth.personal_access_token_ttl_days,
    )
    .await?;
    store.close().await;

    if json {
        println!("{}", serde_json::to_string(&created)?);
    } else {
        println!("user id:                {}", created.user_id);
        println!("data controller id:     {}", created.data_controller_id);
        println!("data controller DID:    {}", created.data_controller_did);
        println!("dxKey:                  {}", created.dx_key);
        println!("personal access token:  {}", created.personal_access_token);
        println!();
        println!("The dxKey and the personal access token are shown only now; store them safely.");
    }
    Ok(())
}
