"""Command line: parse options, call the library, print results and errors.

No logic a library user would need lives here. Exit codes are decided in one
place (:data:`EXIT_CODES`): 0 success, 1 a handout failed, 2 usage or
configuration error, 75 output folder locked, 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from . import __version__, loading, pdf
from . import build as builder
from .check import CheckReport, check_project
from .errors import ConfigError, GateError, HandoutsError, LockedError, RenderError, UsageError
from .fhir import DEFAULT_FOLDER as FHIR_FOLDER
from .fhir import export as export_fhir
from .models import Project
from .outputs import write_atomic
from .render import DEFAULT_VARIANT, PDF_VARIANTS
from .resolve import Personal
from .scaffold import init_project

EXIT_CODES: dict[type[HandoutsError], int] = {
    UsageError: 2,
    ConfigError: 2,
    RenderError: 1,
    GateError: 1,
    LockedError: 75,
}
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def exit_code_for(error: HandoutsError) -> int:
    for kind in type(error).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return EXIT_FAILED


class _State:
    def __init__(self, project_dir: Path | None):
        self.project_dir = project_dir
        self._project: Project | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            root = self.project_dir.resolve() if self.project_dir else loading.find_project_root(Path.cwd())
            self._project = loading.load_project(root)
        return self._project


pass_state = click.make_pass_decorator(_State)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="handouts")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (holding handouts.yaml). Default: the current folder or the nearest parent with one.",
)
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Make branded, accessible PDF patient handouts from YAML content.

    A project holds content/*.yaml (one file per topic), templates/ (layout, fonts
    and templates/clinics/<id>/ for each clinic's branding) and handouts.yaml
    (reading levels, output folder). Start one with 'handouts init DIR'.
    """
    ctx.obj = _State(project_dir)


# ---------------------------------------------------------------- list


@cli.command("list")
@pass_state
def list_command(state: _State) -> None:
    """Show the project's topics, clinics and reading levels."""
    project = state.project
    click.secho("Topics", bold=True)
    for topic_id in loading.topic_ids(project):
        click.echo(f"  {topic_id}")
    click.secho("Clinics", bold=True)
    for clinic_id in loading.clinic_ids(project):
        click.echo(f"  {clinic_id}")
    click.secho("Levels", bold=True)
    for level in project.levels.values():
        default = "  (default)" if level.id == project.default_level else ""
        click.echo(f"  {level.id:<10} {level.label} — up to grade {level.max_grade:g}{default}")


# ---------------------------------------------------------------- render


def format_option(help_text: str):
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )


thumbnail_option = click.option(
    "--thumbnail", is_flag=True, help="Also write a PNG of page 1 beside each PDF (for portal previews)."
)

ignore_check_option = click.option(
    "--ignore-check",
    is_flag=True,
    help="Make handouts even when 'handouts check' finds errors in them, such as text above its level.",
)

variant_option = click.option(
    "--pdf-variant",
    type=click.Choice(PDF_VARIANTS),
    default=DEFAULT_VARIANT,
    show_default=True,
    help="pdf/ua-1: tagged, accessible. pdf/a-3a: archival and tagged. plain: untagged.",
)


@cli.command()
@click.argument("topic")
@click.option("--clinic", "clinic_id", help="Clinic id (a folder in templates/clinics). Needed when there are several.")
@click.option("--level", help="Reading level id from handouts.yaml. Default: the project's default_level.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write. Default: <output>/<clinic>/<topic>.<level>.<language>.pdf (or .html).",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF (to debug templates).")
@click.option(
    "--for",
    "for_name",
    metavar="NAME",
    help="Personalise: print 'Prepared for NAME' and a notes area on page 1. Printed on the page only.",
)
@click.option("--note", metavar="TEXT", help="With --for: notes from the care team, printed on page 1.")
@click.option("--date", "for_date", metavar="YYYY-MM-DD", help="With --for: the date printed on the copy.")
@thumbnail_option
@variant_option
@ignore_check_option
@pass_state
def render(
    state: _State,
    topic: str,
    clinic_id: str | None,
    level: str | None,
    output: Path | None,
    as_html: bool,
    for_name: str | None,
    note: str | None,
    for_date: str | None,
    thumbnail: bool,
    pdf_variant: str,
    ignore_check: bool,
) -> None:
    """Render one handout: TOPIC for one clinic at one reading level.

    The handout is checked first, as 'handouts check' would; one with errors (such as
    text that reads above its level) is refused unless --ignore-check is given.
    """
    project = state.project
    personal = personal_details(for_name, note, for_date)
    if personal and output is None:
        raise UsageError("a personalised copy needs -o FILE: it never goes into the shared output folder")
    clinic_id = clinic_id or _only_clinic(project)
    level = level or project.default_level
    handout, renderer = builder.render_one(project, topic, clinic_id, level, pdf_variant, ignore_check)
    if output is None:
        name = builder.output_name(handout.topic, handout.clinic, level)
        output = project.output_dir / (name[: -len(".pdf")] + ".html" if as_html else name)
    if as_html:
        _write(output, renderer.html(handout, standalone=True, personal=personal).encode(), thumbnail=False)
    else:
        _write(output, renderer.pdf(handout, personal), thumbnail)


def _write(output: Path, data: bytes, thumbnail: bool) -> None:
    write_atomic(output, data)
    click.echo(f"wrote {output} ({len(data):,} bytes)")
    if thumbnail:
        png = output.with_suffix(".png")
        write_atomic(png, pdf.thumbnail(data))
        click.echo(f"wrote {png}")


def personal_details(name: str | None, note: str | None, date: str | None) -> Personal | None:
    """Validate --for/--note/--date. The values are never echoed: they are patient data."""
    if name is None:
        if note is not None or date is not None:
            raise UsageError("--note and --date personalise a copy: give --for NAME too")
        return None
    if not name.strip() or len(name) > 100:
        raise UsageError("--for: give a name of 1 to 100 characters")
    if note is not None and len(note) > 1000:
        raise UsageError("--note: keep notes under 1000 characters (there is room on page 1 only)")
    try:
        when = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise UsageError("--date: expected a date like 2026-11-21") from None
    return Personal(name.strip(), (note or "").strip(), when)


def _only_clinic(project: Project) -> str:
    clinics = loading.clinic_ids(project)
    if len(clinics) == 1:
        return clinics[0]
    raise UsageError(f"choose a clinic with --clinic: {', '.join(clinics) or 'none found in templates/clinics'}")


# ---------------------------------------------------------------- build


@cli.command()
@click.option("--clinic", "clinics", multiple=True, help="Only this clinic (repeatable).")
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option("--level", "levels", multiple=True, help="Only this reading level (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes. Default: the number of CPU cores.")
@click.option("--force", is_flag=True, help="Rebuild everything, even what is up to date.")
@click.option("--dry-run", is_flag=True, help="Show what would be built, skipped and pruned; write nothing.")
@click.option("--prune", is_flag=True, help="Delete outputs of topics, clinics or levels that no longer exist.")
@click.option("--shard", help="Build only slice K of N (e.g. 2/4), stable across machines.")
@click.option(
    "--timeout",
    type=click.IntRange(min=0),
    default=builder.DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds one handout may take before it is stopped (0: no limit).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@format_option("json prints a machine-readable summary.")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Send the rendering to a Dask distributed scheduler (e.g. tcp://10.0.0.5:8786); "
    "needs pip install 'handouts[dask]' and the project at the same path on the workers.",
)
@click.option("--fhir", is_flag=True, help="Also write FHIR DocumentReference JSON (see 'handouts export fhir').")
@thumbnail_option
@variant_option
@ignore_check_option
@pass_state
def build(
    state: _State,
    clinics,
    topics,
    levels,
    jobs,
    force,
    dry_run,
    prune,
    shard,
    timeout,
    quiet,
    output_format,
    scheduler,
    fhir,
    thumbnail,
    pdf_variant,
    ignore_check,
) -> None:
    """Build every clinic × topic × level that is out of date into the output folder.

    Writes <output>/<clinic>/<topic>.<level>.<language>.pdf and <output>/manifest.json.
    Unchanged handouts are skipped; a failing handout is reported and the others
    still build (exit code 1 at the end). Handouts that fail 'handouts check' are
    refused unless --ignore-check is given.
    """
    project = state.project
    the_plan = builder.plan(
        project, topics or None, clinics or None, levels or None, builder.parse_shard(shard) if shard else None
    )
    options = builder.BuildOptions(
        force=force,
        dry_run=dry_run,
        prune=prune,
        pdf_variant=pdf_variant,
        timeout=timeout,
        ignore_check=ignore_check,
        scheduler=scheduler,
        thumbnails=thumbnail,
        **({"jobs": jobs} if jobs else {}),
    )
    started = time.monotonic()
    with _progress(len(the_plan.jobs), quiet or output_format == "json" or dry_run) as progress:
        report = builder.build(project, the_plan, options, progress)
    elapsed = time.monotonic() - started
    if output_format == "json":
        click.echo(json.dumps(_summary(report, elapsed), indent=2))
    elif dry_run:
        _print_dry_run(report)
    else:
        _print_report(report, project, elapsed, quiet)
    if fhir and not dry_run and not report.interrupted:
        written = export_fhir(project)
        if not quiet and output_format == "text":
            click.echo(f"wrote {len(written)} FHIR files to {project.relative(project.output_dir / FHIR_FOLDER)}/")
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if report.failed:
        sys.exit(EXIT_FAILED)


class _progress:
    """A bar with counts and time left on a terminal, plain lines elsewhere, nothing when quiet."""

    def __init__(self, total: int, silent: bool):
        self.total, self.silent = total, silent
        self.bar = None
        self.done = 0

    def __enter__(self):
        if not self.silent and sys.stderr.isatty():
            self.bar = click.progressbar(
                length=self.total, label="Building", file=sys.stderr, show_pos=True, show_eta=True
            )
            self.bar.__enter__()
        return self

    def __call__(self, event: str, name: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not self.silent and event != "skipped":
            click.echo(f"[{self.done}/{self.total}] {event} {name}", err=True)

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)


def _summary(report: builder.BuildReport, elapsed: float) -> dict:
    return {
        "built": [entry.path for entry in report.built],
        "skipped": [job.path for job in report.skipped],
        "failed": [{"handout": failure.name, "error": failure.message} for failure in report.failed],
        "stale": report.stale,
        "pruned": report.pruned,
        "to_build": [job.path for job in report.to_build],
        "interrupted": report.interrupted,
        "seconds": round(elapsed, 3),
    }


def _print_dry_run(report: builder.BuildReport) -> None:
    for job in report.to_build:
        click.echo(f"would build  {job.path}")
    for job in report.skipped:
        click.echo(f"up to date   {job.path}")
    for path in report.stale:
        click.echo(f"stale        {path}")
    for failure in report.failed:
        click.echo(f"cannot build {failure.name}: {failure.message}", err=True)
    click.echo(f"{len(report.to_build)} to build, {len(report.skipped)} up to date, {len(report.stale)} stale")


def _print_report(report: builder.BuildReport, project: Project, elapsed: float, quiet: bool) -> None:
    for failure in report.failed:
        click.secho(f"failed: {failure.name}", fg="red", err=True)
        click.echo("  " + failure.message.replace("\n", "\n  "), err=True)
    if report.interrupted:
        click.echo("interrupted: finished handouts are kept and listed in the manifest", err=True)
    if quiet:
        return
    for path in report.stale:
        action = "removed" if path in report.pruned else "stale (use --prune to remove)"
        click.echo(f"{action}: {path}")
    click.echo(
        f"{len(report.built)} built, {len(report.skipped)} up to date, {len(report.failed)} failed "
        f"in {elapsed:.1f} s → {project.relative(project.output_dir)}/"
    )


# ---------------------------------------------------------------- packet


@cli.command()
@click.argument("topics", nargs=-1, required=True)
@click.option("--clinic", "clinic_id", help="Clinic id. Needed when there are several.")
@click.option("--level", help="Reading level id. Default: the project's default_level.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write."
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
@variant_option
@ignore_check_option
@pass_state
def packet(state: _State, topics, clinic_id, level, output, as_html, pdf_variant, ignore_check) -> None:
    """Several TOPICS in one PDF: a cover listing them, a bookmark and page numbers for each.

    The packet is one tagged document, so fonts are embedded once and "Page X of Y"
    counts the whole packet.
    """
    project = state.project
    the_packet, renderer = builder.packet_one(
        project,
        list(topics),
        clinic_id or _only_clinic(project),
        level or project.default_level,
        pdf_variant,
        ignore_check,
    )
    data = renderer.html(the_packet, standalone=True).encode() if as_html else renderer.pdf(the_packet)
    _write(output, data, thumbnail=False)


# ---------------------------------------------------------------- export


@cli.group()
def export() -> None:
    """Export what was built for other systems."""


@export.command("fhir")
@click.option("--embed", is_flag=True, help="Put each PDF in its DocumentReference (base64) instead of its path.")
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write to. Default: <output>/fhir.",
)
@pass_state
def export_fhir_command(state: _State, embed: bool, target: Path | None) -> None:
    """FHIR R4 DocumentReference JSON for every PDF in the manifest, and one Bundle per clinic.

    Writes <folder>/<clinic>/<topic>.<level>.<language>.json and <folder>/<clinic>.bundle.json.
    Attachment URLs are relative to the output folder.
    """
    written = export_fhir(state.project, target, embed)
    click.echo(f"wrote {len(written)} FHIR files")


# ---------------------------------------------------------------- check


@cli.command()
@click.argument("topics", nargs=-1)
@click.option("--clinic", "clinics", multiple=True, help="Only this clinic (repeatable).")
@click.option("--level", "levels", multiple=True, help="Only this reading level (repeatable).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@format_option("json prints the machine-readable report described in the README.")
@pass_state
def check(state: _State, topics, clinics, levels, strict, output_format) -> None:
    """Check content, clinics and templates; measure reading grades. Reports every finding at once.

    Exit code 0 when clean, 1 when errors were found (or warnings, with --strict),
    2 for usage or configuration errors. Finding codes (HL...) are listed in the README.
    """
    project = state.project
    for kind, wanted, available in (
        ("topic", topics, loading.topic_ids(project)),
        ("clinic", clinics, loading.clinic_ids(project)),
        ("level", levels, list(project.levels)),
    ):
        builder.select_ids(kind, wanted, available)
    report = check_project(project, topics or None, clinics or None, levels or None)
    if output_format == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_check(report)
    if report.failed(strict):
        sys.exit(EXIT_FAILED)


def _print_check(report: CheckReport) -> None:
    current = None
    for finding in report.sorted_findings():
        if finding.path != current:
            current = finding.path
            click.secho(f"\n{current}", bold=True)
        color = "red" if finding.severity == "error" else "yellow"
        click.echo("  " + click.style(str(finding), fg=color))
    if report.measured:
        click.secho("\nReading grades (grade = higher of Flesch-Kincaid and SMOG)", bold=True)
        click.echo(
            f"  {'topic':<26} {'level':<10} {'grade':>5} {'max':>4} {'FK':>5} {'SMOG':>5} {'ease':>5} {'w/s':>5}"
        )
        for measured in report.measured:
            whole = measured.scores.whole
            mark = "" if whole.grade <= measured.max_grade else click.style("  above max", fg="red")
            click.echo(
                f"  {measured.scores.topic:<26} {measured.scores.level:<10}"
                f" {whole.grade:>5.1f} {measured.max_grade:>4g}"
                f" {whole.flesch_kincaid_grade:>5.1f} {whole.smog_index:>5.1f} {whole.flesch_reading_ease:>5.0f}"
                f" {whole.words_per_sentence:>5.1f}{mark}"
            )
    click.echo("\n" + report.summary())


# ---------------------------------------------------------------- init


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Start a new project in DIRECTORY: config, one topic, one clinic and the templates.

    The new project renders right away: cd DIRECTORY && handouts build
    """
    written = init_project(directory)
    click.echo(f"created a handouts project in {directory} ({len(written)} files)")
    click.echo(f"next: cd {directory} && handouts build")


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print as messages (never tracebacks) with their exit code."""
    try:
        cli.main(args=argv, prog_name="handouts", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except HandoutsError as error:
        click.secho("error: " if not error.diagnostics else "", fg="red", err=True, nl=False)
        click.echo(str(error), err=True)
        sys.exit(exit_code_for(error))
