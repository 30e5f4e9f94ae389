//! `liaison`: the engagement hub's server and its administration commands.
//! Settings come from flags, then `LIAISON_*` environment variables, then defaults.

use clap::{Args, Parser, Subcommand};
use liaison::{
    DEFAULT_DATABASE_URL, DEFAULT_LISTEN, Lifetime, MaxDistance, RateLimit, Server, Settings,
    shutdown_signal, with_store,
};
use liaison_domain::TokenId;
use liaison_domain::matching::Settings as MatchSettings;
use liaison_domain::scope::{Scope, ScopeSet};
use liaison_domain::time::format_instant;
use liaison_store::Store;
use std::num::NonZeroU32;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "liaison",
    version,
    about = "Liaison: a self-hosted engagement hub"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Db {
    /// Database URL: `sqlite:<file>` (created if missing) or `postgres://…` (the database is
    /// created if it does not exist).
    #[arg(long, env = "LIAISON_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
}

/// The matching settings of organizations that have set none of their own.
#[derive(Args, Clone)]
struct MatchingArgs {
    /// Minutes before an appointment's start a recording may begin and still be a candidate
    /// of it (0 to 1440).
    #[arg(long, env = "LIAISON_MATCH_BEFORE_MINUTES", default_value_t = MatchSettings::default().before_minutes())]
    match_before_minutes: u32,
    /// Minutes after an appointment's end a recording may begin and still be a candidate of
    /// it (0 to 1440).
    #[arg(long, env = "LIAISON_MATCH_AFTER_MINUTES", default_value_t = MatchSettings::default().after_minutes())]
    match_after_minutes: u32,
    /// By how much the best candidate's score must beat the runner-up's to be linked (0 to 1).
    #[arg(long, env = "LIAISON_MATCH_MARGIN", default_value_t = MatchSettings::default().margin())]
    match_margin: f64,
    /// The farthest a recording may be from an appointment's account, in meters (100 to
    /// 100000), when both places are known; `none` for no limit.
    #[arg(long, env = "LIAISON_MATCH_MAX_DISTANCE", default_value_t = MaxDistance(MatchSettings::default().max_distance_meters()))]
    match_max_distance: MaxDistance,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on.
        #[arg(long, env = "LIAISON_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: String,
        /// Requests per minute a token may make, unless it carries its own limit; `off` for
        /// no limit. Counted per token, in each instance's memory.
        #[arg(long, env = "LIAISON_RATE_LIMIT", default_value_t = RateLimit::default())]
        rate_limit: RateLimit,
        /// How long a user access token lives once issued (`s`, `m`, `h` or `d`).
        #[arg(long, env = "LIAISON_ACCESS_TOKEN_TTL", default_value_t = Lifetime::default())]
        access_token_ttl: Lifetime,
        #[command(flatten)]
        matching: MatchingArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
        #[command(flatten)]
        db: Db,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Copy a SQLite database to a new file while the server keeps writing (a consistent
    /// snapshot). For PostgreSQL, use `pg_dump`.
    Backup {
        #[command(flatten)]
        db: Db,
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Write every entity of one organization or of all of them (records, CRM users, users,
    /// participants, tokens as hashes, events) to a file of JSON lines, from one consistent
    /// snapshot, for `liaison import` into any database.
    Export {
        #[command(flatten)]
        db: Db,
        /// The file to write (it must not exist), or `-` for the standard output.
        #[arg(long)]
        to: PathBuf,
        /// Export only the organization with this name.
        #[arg(long)]
        org: Option<String>,
    },
    /// Load a file written by `liaison export` into the database. Importing a file twice
    /// changes nothing the second time; an import that stopped resumes where it stopped.
    Import {
        #[command(flatten)]
        db: Db,
        /// The export to load, or `-` for the standard input.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token (and its organization and connection when missing); prints only the
    /// token.
    Create {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// CRM connection name within the organization.
        #[arg(long, default_value = "default")]
        connection: String,
        /// Comma-separated scopes, `read` for every read scope, or `all`.
        #[arg(long, default_value = "all")]
        scopes: String,
        /// A name to tell the token apart in listings.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Requests per minute this token may make, instead of the server's default.
        #[arg(long)]
        rate_limit: Option<NonZeroU32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    liaison::init_logging(liaison::LogFormat::from_env()?);
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            db,
            listen,
            rate_limit,
            access_token_ttl,
            matching,
        } => with_store!(&db.database_url, |store| {
            let backend = store.backend_name();
            let settings = Settings {
                rate_limit,
                access_token_ttl,
                matching: liaison::matching_defaults(
                    matching.match_before_minutes,
                    matching.match_after_minutes,
                    matching.match_margin,
                    matching.match_max_distance,
                )?,
            };
            let server = Server::bind_with(store, &listen, &settings).await?;
            if let Some(token) = &server.bootstrap_token {
                println!(
                    "Created organization `default` with connection `default`.\n\
                     Its API token is shown only this once:\n\n    {token}\n"
                );
            }
            tracing::info!(addr = %server.local_addr()?, backend, rate_limit = %settings.rate_limit, "liaison is ready");
            server.run(shutdown_signal()).await
        }),
        Command::Migrate { db } => with_store!(&db.database_url, |store| {
            let _ = store;
            eprintln!("migrations applied");
            Ok(())
        }),
        Command::Backup { db, to } => {
            if liaison::Backend::of(&db.database_url)? != liaison::Backend::Sqlite {
                anyhow::bail!(
                    "`liaison backup` copies SQLite databases; back PostgreSQL up with pg_dump \
                     (see the README)"
                );
            }
            let started = std::time::Instant::now();
            liaison_store_sqlite::backup(&db.database_url, &to).await?;
            let bytes = std::fs::metadata(&to).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "backed up to {} ({bytes} bytes) in {:.1} s",
                to.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Export { db, to, org } => with_store!(&db.database_url, |store| {
            liaison::transfer::export(&store, org.as_deref(), &to).await?;
            store.close().await;
            Ok(())
        }),
        Command::Import { db, file } => with_store!(&db.database_url, |store| {
            let result = liaison::transfer::import(&store, &file).await;
            store.close().await;
            result.map(|_| ())
        }),
        Command::Token { command, db } => with_store!(&db.database_url, |store| {
            let engine = liaison_engine::Engine::new(store).await?;
            match command {
                TokenCommand::Create {
                    org,
                    connection,
                    scopes,
                    name,
                    rate_limit,
                } => {
                    let scopes = ScopeSet::parse(&scopes).map_err(anyhow::Error::msg)?;
                    let created = engine
                        .create_token(&org, &connection, &name, scopes, rate_limit)
                        .await?;
                    println!("{}", created.secret);
                }
                TokenCommand::List => {
                    println!(
                        "{:<36}  {:<16}  {:<10}  {:<24}  {:<8}  {:<10}  scopes",
                        "id", "org", "prefix", "created", "state", "per minute"
                    );
                    for (t, org) in engine.list_tokens().await? {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        let scopes = if t.scopes == Scope::all() {
                            "all".to_owned()
                        } else {
                            t.scopes.to_string()
                        };
                        let limit = t
                            .rate_limit
                            .map_or_else(|| "default".to_owned(), |n| n.to_string());
                        println!(
                            "{:<36}  {:<16}  {:<10}  {:<24}  {:<8}  {:<10}  {}",
                            t.id,
                            org,
                            t.prefix,
                            format_instant(&t.created_at),
                            state,
                            limit,
                            scopes
                        );
                    }
                }
                TokenCommand::Revoke { id } => {
                    let id = TokenId::parse(&id)
                        .ok_or_else(|| anyhow::anyhow!("`{id}` is not a token id"))?;
                    engine.revoke_token(id).await?;
                    eprintln!("revoked {id}");
                }
            }
            engine.store().close().await;
            Ok(())
        }),
    }
}
