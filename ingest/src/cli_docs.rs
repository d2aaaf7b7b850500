//! Shell completions and man pages, generated from the binaries' own clap definitions
//! (so they never drift from `--help`): `zoomwatch completions SHELL`, `zoomwatch man`,
//! and the same two in `zoomwatch-ingest`.

use std::io::Write;
use std::path::Path;

/// Writes `shell`'s completion script for `cmd` (named `bin`) to `out`.
pub fn completions(mut cmd: clap::Command, bin: &str, shell: clap_complete::Shell, out: &mut impl Write) {
    clap_complete::generate(shell, &mut cmd, bin, out);
}

/// The man page of `cmd` (roff) to `out`.
pub fn man(cmd: &clap::Command, out: &mut impl Write) -> std::io::Result<()> {
    clap_mangen::Man::new(cmd.clone()).render(out)
}

/// Writes `BIN.1` and one `BIN-SUBCOMMAND.1` per subcommand into `dir` (created if
/// missing); returns the files written.
pub fn man_dir(cmd: &clap::Command, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = cmd.clone();
    cmd.build();
    let bin = cmd.get_name().to_owned();
    let mut written = Vec::new();
    let mut page = |name: &str, c: clap::Command| -> std::io::Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(c.name(name.to_owned())).render(&mut buf)?;
        std::fs::write(&path, buf)?;
        written.push(path);
        Ok(())
    };
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        page(&format!("{bin}-{}", sub.get_name()), sub.clone())?;
    }
    page(&bin, cmd.clone())?;
    Ok(written)
}

/// `completions` and `man` as subcommands: their arguments.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `man`: to standard output, or one page per command into a directory.
#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write BIN.1 and BIN-SUBCOMMAND.1 here instead of printing BIN.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Runs `man` for `cmd`.
pub fn run_man(cmd: &clap::Command, args: &ManArgs) -> Result<std::process::ExitCode, String> {
    match &args.dir {
        Some(dir) => {
            let files = man_dir(cmd, dir).map_err(|e| format!("cannot write man pages to {}: {e}", dir.display()))?;
            let main = files.last().map(|p| p.display().to_string()).unwrap_or_default();
            eprintln!("{} man pages written to {} (e.g. man -l {main})", files.len(), dir.display());
        }
        None => man(cmd, &mut std::io::stdout().lock()).map_err(|e| format!("cannot print the man page: {e}"))?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}
