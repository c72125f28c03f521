"""Command line: parse options, call one function of :mod:`handouts.commands`, print what it returns.

Every command imports its use case when it runs, so ``handouts --help`` loads
click and nothing heavy. Errors are printed as located messages, never as
tracebacks, and exit with the code :func:`errors.exit_code` gives them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import HandoutsError, exit_code

if TYPE_CHECKING:
    from pathlib import Path

    from .models import Project
from .defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT, PDF_VARIANTS


def _path(value: str) -> Path:
    """A Path, with pathlib imported when an option is used rather than for --help."""
    from pathlib import Path

    return Path(value)


def _as_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    return _path(value) if value is not None else None


class _State:
    """The ``--project`` option; the project is loaded on first use."""

    def __init__(self, project_dir: Path | None):
        self.project_dir = project_dir
        self._project: Project | None = None

    @property
    def project(self) -> Project:
        """The loaded ``handouts.yaml`` of the chosen (or nearest) project."""
        if self._project is None:
            from . import loading

            given = self.project_dir
            root = loading.given_project_root(given) if given else loading.find_project_root(_path("."))
            self._project = loading.load_project(root)
        return self._project


pass_state = click.make_pass_decorator(_State)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="handouts")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(
        file_okay=False,
    ),
    callback=_as_path,
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


def format_option(help_text: str):
    """``--format text|json``."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )


def language_option(many: bool):
    """``--language``: one language (render, packet) or a filter (build, repeatable)."""
    if many:
        return click.option(
            "--language", "languages", multiple=True, metavar="LANG", help="Only this language (repeatable)."
        )
    return click.option(
        "--language",
        metavar="LANG",
        help="Language (es, th ...): needs a complete translation. Default: the clinic's first language.",
    )


def edition_option(many: bool):
    """``--edition regular|large``."""
    return click.option(
        "--edition",
        "editions" if many else "edition",
        type=click.Choice(["regular", "large"]),
        multiple=many,
        default=None if many else "regular",
        show_default=not many,
        help="large: large print (18 pt and up, 1.5 line spacing), named <...>.large.pdf"
        + (" (repeatable). Default: the editions in handouts.yaml or clinic.yaml." if many else "."),
    )


thumbnail_option = click.option(
    "--thumbnail", is_flag=True, help="Also write a PNG of page 1 beside each PDF (for portal previews)."
)

mkdir_option = click.option(
    "--mkdir", is_flag=True, help="Create the folder of -o FILE when it does not exist (otherwise an error)."
)

ignore_check_option = click.option(
    "--ignore-check",
    is_flag=True,
    help="Make handouts even when 'handouts check' finds errors in them, such as text above its level.",
)

timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds one handout may take before it is stopped (0: no limit).",
)

variant_option = click.option(
    "--pdf-variant",
    type=click.Choice(PDF_VARIANTS),
    default=DEFAULT_VARIANT,
    show_default=True,
    help="pdf/ua-1: tagged, accessible. pdf/a-3a: archival and tagged. plain: untagged.",
)


def _echo_json(document: dict) -> None:
    import json

    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _echo_written(written) -> None:
    for item in written:
        click.echo(f"wrote {item.path} ({item.size:,} bytes)")


# ---------------------------------------------------------------- list


@cli.command("list", short_help="Topics, clinics and reading levels, with their names.")
@format_option("json prints the same as JSON.")
@pass_state
def list_command(state: _State, output_format: str) -> None:
    """Show the project's topics (with titles), clinics (with names) and reading levels.

    \b
    Examples:
      handouts list
      handouts list --format json
    """
    from .commands.listing import inventory

    found = inventory(state.project)
    if output_format == "json":
        _echo_json(found.as_dict())
        return
    for heading, items in (("Topics", found.topics), ("Clinics", found.clinics)):
        click.secho(heading, bold=True)
        for item in items:
            click.echo(f"  {item.id:<28} {item.name or click.style(item.problem, fg='red')}")
    click.secho("Levels", bold=True)
    for level in found.levels:
        default = "  (default)" if level.id == found.default_level else ""
        click.echo(f"  {level.id:<28} {level.label} — up to grade {level.max_grade:g}{default}")


# ---------------------------------------------------------------- render


@cli.command(short_help="One handout: a topic for one clinic at one reading level.")
@click.argument("topic")
@click.option("--clinic", "clinic_id", help="Clinic id (a folder in templates/clinics). Needed when there are several.")
@click.option("--level", help="Reading level id from handouts.yaml. Default: the project's default_level.")
@click.option(
    "-o",
    "--output",
    type=click.Path(
        dir_okay=False,
    ),
    callback=_as_path,
    help="File to write. Default: <output>/<clinic>/<topic>.<level>.<language>.pdf (or .html).",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF (to debug templates).")
@mkdir_option
@click.option(
    "--for",
    "for_name",
    metavar="NAME",
    help="Personalise: print 'Prepared for NAME' and a notes area on page 1. Printed on the page only.",
)
@click.option("--note", metavar="TEXT", help="With --for: notes from the care team, printed on page 1.")
@click.option("--date", "for_date", metavar="YYYY-MM-DD", help="With --for: the date printed on the copy.")
@language_option(many=False)
@edition_option(many=False)
@thumbnail_option
@variant_option
@timeout_option
@ignore_check_option
@pass_state
def render(
    state: _State,
    topic: str,
    clinic_id: str | None,
    level: str | None,
    output: Path | None,
    as_html: bool,
    mkdir: bool,
    for_name: str | None,
    note: str | None,
    for_date: str | None,
    language: str | None,
    edition: str,
    thumbnail: bool,
    pdf_variant: str,
    timeout: float,
    ignore_check: bool,
) -> None:
    """Render one handout: TOPIC for one clinic at one reading level.

    The handout is checked first, as 'handouts check' would; one with errors (such as
    text that reads above its level) is refused unless --ignore-check is given.

    \b
    Examples:
      handouts render endplate-sclerosis --clinic riverside-spine --level easy
      handouts render endplate-sclerosis --clinic riverside-spine -o today/back.pdf --mkdir
      handouts render endplate-sclerosis --clinic riverside-spine --for "A. Patient" -o copy.pdf
      handouts render endplate-sclerosis --clinic bangkok-regenerative --language th --edition large
    """
    from .commands.render import Choice, check_output, personal_details, render_handout

    check_output(output, as_html, mkdir)
    personal = personal_details(for_name, note, for_date)
    choice = Choice(clinic_id, level, language, edition)
    written = render_handout(
        state.project, topic, choice, output, as_html, personal, thumbnail, pdf_variant, ignore_check, timeout
    )
    _echo_written(written)


# ---------------------------------------------------------------- build


class _Progress:
    """A bar with counts and time left on a terminal, plain lines elsewhere, nothing when silent."""

    def __init__(self, silent: bool):
        self.silent = silent
        self.total = 0
        self.done = 0
        self.bar = None

    def start(self, total: int) -> None:
        self.total = total
        if not self.silent and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label="Building", file=sys.stderr, show_pos=True, show_eta=True)
            self.bar.__enter__()

    def __call__(self, event: str, name: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not self.silent and event != "skipped":
            click.echo(f"[{self.done}/{self.total}] {event} {name}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command(short_help="Every clinic × topic × level × language × edition that is out of date.")
@click.option("--clinic", "clinics", multiple=True, help="Only this clinic (repeatable).")
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option("--level", "levels", multiple=True, help="Only this reading level (repeatable).")
@language_option(many=True)
@edition_option(many=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes. Default: the number of CPU cores.")
@click.option("--force", is_flag=True, help="Rebuild everything, even what is up to date.")
@click.option("--dry-run", is_flag=True, help="Show what would be built, skipped and pruned; write nothing.")
@click.option("--prune", is_flag=True, help="Delete outputs of topics, clinics or levels that no longer exist.")
@click.option("--shard", help="Build only slice K of N (e.g. 2/4), stable across machines.")
@timeout_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@format_option("json prints a machine-readable summary, failures with their codes and locations.")
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
@click.option(
    "--allow-drafts",
    is_flag=True,
    help="Also build topics with status: draft (not medically reviewed); each page is marked as a draft.",
)
@pass_state
def build(
    state: _State,
    clinics: tuple[str, ...],
    topics: tuple[str, ...],
    levels: tuple[str, ...],
    languages: tuple[str, ...],
    editions: tuple[str, ...],
    jobs: int | None,
    force: bool,
    dry_run: bool,
    prune: bool,
    shard: str | None,
    timeout: int,
    quiet: bool,
    output_format: str,
    scheduler: str | None,
    fhir: bool,
    thumbnail: bool,
    pdf_variant: str,
    ignore_check: bool,
    allow_drafts: bool,
) -> None:
    """Build every clinic × topic × level × language × edition that is out of date.

    Writes <output>/<clinic>/<topic>.<level>.<language>.pdf (.large.pdf in large print)
    and <output>/manifest.json. A clinic's languages are those of its clinic.yaml; a
    language is built for a topic only when every text it prints is translated.
    Unchanged handouts are skipped; a failing handout is reported and the others
    still build (exit code 1 at the end). Handouts that fail 'handouts check' are
    refused unless --ignore-check is given; draft topics (not medically reviewed)
    unless --allow-drafts is given.

    \b
    Examples:
      handouts build
      handouts build --clinic riverside-spine --level easy --jobs 4
      handouts build --dry-run --prune
    """
    import time

    from .build import BuildOptions
    from .commands.build import run_build

    options = BuildOptions(
        force=force,
        dry_run=dry_run,
        prune=prune,
        pdf_variant=pdf_variant,
        timeout=timeout,
        ignore_check=ignore_check,
        allow_drafts=allow_drafts,
        scheduler=scheduler,
        thumbnails=thumbnail,
        **({"jobs": jobs} if jobs else {}),
    )
    project = state.project
    started = time.monotonic()
    progress = _Progress(quiet or output_format == "json" or dry_run)
    try:
        result = run_build(project, topics, clinics, levels, shard, options, progress, fhir, languages, editions)
    finally:
        progress.close()
    elapsed = time.monotonic() - started
    if output_format == "json":
        _echo_json(_summary(result.report, elapsed))
    elif dry_run:
        _print_dry_run(result.report)
    else:
        _print_report(result.report, project, elapsed, quiet)
        if result.fhir_files and not quiet:
            click.echo(f"wrote {len(result.fhir_files)} FHIR files")
    if error := result.error():
        raise error


def _summary(report, elapsed: float) -> dict:
    return {
        "built": [entry.path for entry in report.built],
        "skipped": [job.path for job in report.skipped],
        "failed": [
            {"handout": failure.name, "diagnostics": [d.as_dict() for d in failure.diagnostics]}
            for failure in report.failed
        ],
        "stale": report.stale,
        "pruned": report.pruned,
        "warnings": [note.as_dict() for note in report.notes],
        "to_build": [job.path for job in report.to_build],
        "interrupted": report.interrupted,
        "seconds": round(elapsed, 3),
    }


def _print_dry_run(report) -> None:
    for note in report.notes:
        click.echo(str(note), err=True)
    for job in report.to_build:
        click.echo(f"would build  {job.path}")
    for job in report.skipped:
        click.echo(f"up to date   {job.path}")
    for path in report.stale:
        click.echo(f"stale        {path}")
    for failure in report.failed:
        click.echo(f"cannot build {failure.name}:\n  " + failure.message.replace("\n", "\n  "), err=True)
    click.echo(f"{len(report.to_build)} to build, {len(report.skipped)} up to date, {len(report.stale)} stale")


def _print_report(report, project: Project, elapsed: float, quiet: bool) -> None:
    for note in report.notes:
        click.echo(str(note), err=True)
    for failure in report.failed:
        click.secho(f"failed: {failure.name}", fg="red", err=True)
        click.echo("  " + failure.message.replace("\n", "\n  "), err=True)
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


@cli.command(short_help="Several topics in one PDF, with a cover and bookmarks.")
@click.argument("topics", nargs=-1, required=True)
@click.option("--clinic", "clinic_id", help="Clinic id. Needed when there are several.")
@click.option("--level", help="Reading level id. Default: the project's default_level.")
@click.option(
    "-o",
    "--output",
    type=click.Path(
        dir_okay=False,
    ),
    callback=_as_path,
    required=True,
    help="PDF file to write.",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
@mkdir_option
@language_option(many=False)
@edition_option(many=False)
@variant_option
@timeout_option
@ignore_check_option
@pass_state
def packet(
    state: _State,
    topics: tuple[str, ...],
    clinic_id: str | None,
    level: str | None,
    output: Path,
    as_html: bool,
    mkdir: bool,
    language: str | None,
    edition: str,
    pdf_variant: str,
    timeout: float,
    ignore_check: bool,
) -> None:
    """Several TOPICS in one PDF: a cover listing them, a bookmark and page numbers for each.

    The packet is one tagged document, so fonts are embedded once and "Page X of Y"
    counts the whole packet.

    \b
    Examples:
      handouts packet endplate-sclerosis subchondral-sclerosis --clinic riverside-spine -o visit.pdf
    """
    from .commands.render import Choice, check_output, render_packet

    check_output(output, as_html, mkdir)
    choice = Choice(clinic_id, level, language, edition)
    _echo_written(
        render_packet(state.project, list(topics), output, choice, as_html, pdf_variant, ignore_check, timeout)
    )


# ---------------------------------------------------------------- export


@cli.group(short_help="Export what was built for other systems (FHIR).")
def export() -> None:
    """Export what was built for other systems.

    \b
    Examples:
      handouts export fhir --base-url https://example.org/handouts
    """


@export.command("fhir", short_help="FHIR R4 DocumentReference JSON for every PDF built.")
@click.option("--embed", is_flag=True, help="Put each PDF in its DocumentReference (base64) instead of its address.")
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the output folder is served (e.g. https://example.org/handouts): attachment URLs become absolute.",
)
@click.option(
    "--bundle",
    "bundle_type",
    type=click.Choice(["collection", "transaction"]),
    default="collection",
    show_default=True,
    help="transaction: PUT requests keyed by the stable ids, which a FHIR server applies as upserts.",
)
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(file_okay=False),
    callback=_as_path,
    help="Folder to write to. Default: <output>/fhir.",
)
@pass_state
def export_fhir_command(
    state: _State, embed: bool, base_url: str | None, bundle_type: str, target: Path | None
) -> None:
    """FHIR R4 DocumentReference JSON for every PDF in the manifest, and one Bundle per clinic.

    Writes <folder>/<clinic>/<topic>.<level>.<language>.json (each with its clinic as a
    contained Organization) and <folder>/<clinic>.bundle.json. Attachment URLs are
    relative to the output folder unless --base-url is given.

    Example: handouts export fhir --base-url https://example.org/handouts --bundle transaction
    """
    from .commands.export import export_fhir

    written = export_fhir(state.project, target, embed, base_url, bundle_type)
    click.echo(f"wrote {len(written)} FHIR files")


# ---------------------------------------------------------------- translate


@cli.group(short_help="Keep translations (gettext PO files) in step with the English text.")
def translate() -> None:
    """Translations of topics, one gettext PO file per topic and language.

    content/translations/<lang>/<topic>.po holds one entry per paragraph, list item,
    heading, title, red flag, plan item, glossary entry, figure text and source site.
    Translators edit them with any PO tool (Poedit, Weblate, Crowdin). A handout in a
    language is built only when every text it prints is translated and not fuzzy.

    \b
    Examples:
      handouts translate update --lang es
      handouts translate status --format json
    """


@translate.command("update", short_help="Create or update PO files from the English topics.")
@click.argument("topics", nargs=-1)
@click.option(
    "--lang",
    "languages",
    multiple=True,
    metavar="LANG",
    help="Language code (repeatable). Default: every language with PO files or printed by a clinic.",
)
@pass_state
def translate_update(state: _State, topics: tuple[str, ...], languages: tuple[str, ...]) -> None:
    """Create or update the PO files of TOPICS (default: all) as msgmerge would.

    New texts appear untranslated; a changed English text keeps its old translation,
    marked fuzzy with the previous English beside it, for the translator to correct;
    removed texts become obsolete (#~ lines).

    \b
    Examples:
      handouts translate update --lang es --lang th
      handouts translate update endplate-sclerosis --lang th
    """
    from .commands.translate import run_update

    for result in run_update(state.project, topics, languages):
        verb = "created" if result.created else "updated"
        click.echo(
            f"{verb} {result.path}: {result.new} new, {result.fuzzy} fuzzy, {result.obsolete} obsolete,"
            f" {result.unchanged} unchanged"
        )


@translate.command("status", short_help="Translated, fuzzy, stale and missing texts per topic, language, level.")
@click.argument("topics", nargs=-1)
@click.option("--lang", "languages", multiple=True, metavar="LANG", help="Only this language (repeatable).")
@format_option("json prints one object per topic × language × level.")
@pass_state
def translate_status(state: _State, topics: tuple[str, ...], languages: tuple[str, ...], output_format: str) -> None:
    """How complete each translation is, per topic × language × level.

    fuzzy: marked for review; stale: the English changed since it was translated;
    missing: not translated. Only complete rows can be built. Exit code 0 either way.

    \b
    Examples:
      handouts translate status
      handouts translate status --lang th --format json
    """
    from .commands.translate import run_status

    rows = run_status(state.project, topics, languages)
    if output_format == "json":
        _echo_json({"translations": [row.as_dict() for row in rows]})
        return
    click.echo(f"{'topic':<26} {'lang':<6} {'level':<10} {'done':>5} {'fuzzy':>5} {'stale':>5} {'miss':>5}  status")
    for row in rows:
        state_text = "complete" if row.complete else click.style("incomplete", fg="yellow")
        click.echo(
            f"{row.topic:<26} {row.language:<6} {row.level:<10} {row.translated:>5} {row.fuzzy:>5}"
            f" {row.stale:>5} {row.missing:>5}  {state_text}, {row.status}"
        )


# ---------------------------------------------------------------- check


@cli.command(short_help="Every finding at once, and the measured reading grades.")
@click.argument("topics", nargs=-1)
@click.option("--clinic", "clinics", multiple=True, help="Only this clinic (repeatable).")
@click.option("--level", "levels", multiple=True, help="Only this reading level (repeatable).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--layout",
    is_flag=True,
    help="Also lay out every handout as render would (writing nothing): page budget and the layout lint.",
)
@format_option("json prints the machine-readable report (schema: handouts/check-report.schema.json).")
@pass_state
def check(
    state: _State,
    topics: tuple[str, ...],
    clinics: tuple[str, ...],
    levels: tuple[str, ...],
    strict: bool,
    layout: bool,
    output_format: str,
) -> None:
    """Check content, clinics and templates; measure reading grades. Reports every finding at once.

    Exit code 0 when clean, 1 when errors were found (or warnings, with --strict),
    2 for usage or configuration errors. Finding codes (HL...) are listed in docs/reference/codes.md.

    \b
    Examples:
      handouts check
      handouts check endplate-sclerosis --level easy
      handouts check --strict --format json
      handouts check --layout
    """
    from .commands.check import check_error, run_check

    report = run_check(state.project, topics, clinics, levels)
    if layout:
        from .commands.proof import proof

        proof(state.project, report, list(topics) or None, list(clinics) or None, list(levels) or None)
    if output_format == "json":
        _echo_json(report.as_json())
    else:
        _print_check(report)
    if error := check_error(report, strict):
        raise error


def _print_check(report) -> None:
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
            f" {'unfam%':>6} {'long%':>6}"
        )
        for measured in report.measured:
            whole = measured.scores.whole
            mark = "" if whole.grade <= measured.max_grade else click.style("  above max", fg="red")
            click.echo(
                f"  {measured.scores.topic:<26} {measured.scores.level:<10}"
                f" {whole.grade:>5.1f} {measured.max_grade:>4g}"
                f" {whole.flesch_kincaid_grade:>5.1f} {whole.smog_index:>5.1f} {whole.flesch_reading_ease:>5.0f}"
                f" {whole.words_per_sentence:>5.1f} {measured.scores.shares.unfamiliar_percent:>6.1f}"
                f" {measured.scores.shares.long_percent:>6.1f}{mark}"
            )
    if report.translated:
        click.secho("\nTranslations (each language by its own formula; no English grade is given)", bold=True)
        click.echo(f"  {'topic':<26} {'level':<10} {'lang':<5} {'score':>6} {'min':>4} {'w/s':>5}  formula")
        for measured in report.translated:
            scores = measured.scores
            value = f"{scores.score:>6.1f}" if scores.score is not None else f"{'—':>6}"
            limit = f"{measured.min_score:>4g}" if measured.min_score is not None else f"{'—':>4}"
            formula = f"{scores.formula}: {scores.band}" if scores.formula else "not measured (no validated formula)"
            click.echo(
                f"  {scores.topic:<26} {scores.level:<10} {scores.language:<5} {value} {limit}"
                f" {scores.words_per_sentence:>5.1f}  {formula}"
            )
    click.echo("\n" + report.summary())


# ---------------------------------------------------------------- init


@cli.command(short_help="Start a new project: config, a topic, a clinic, templates.")
@click.argument("directory", type=click.Path(file_okay=False), callback=_as_path)
def init(directory: Path) -> None:
    """Start a new project in DIRECTORY: config, one topic, one clinic and the templates.

    The new project renders right away: cd DIRECTORY && handouts build --allow-drafts

    \b
    Examples:
      handouts init my-handouts
    """
    from .commands.init import init_project

    written = init_project(directory)
    click.echo(f"created a handouts project in {directory} ({len(written)} files)")
    click.echo(f"next: cd {directory} && handouts check && handouts build --allow-drafts")


# ---------------------------------------------------------------- serve


@cli.command(short_help="A web app: find, print and personalise handouts; live preview for authors.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on. Beyond this machine needs --token."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--token",
    envvar="HANDOUTS_TOKEN",
    help="Access code users must enter (or send as 'Authorization: Bearer'); needed with --host other than"
    " 127.0.0.1. Also read from HANDOUTS_TOKEN, which keeps it out of the process list.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True, help="Render workers.")
@click.option("--allow-drafts", is_flag=True, help="Let staff give draft handouts (each page says DRAFT), as in build.")
@click.option("--no-watch", is_flag=True, help="Do not watch the files for changes (previews then never refresh).")
@click.option("--clinic", "clinic_id", default="", help="The clinic the find page shows first (a front desk's own).")
@timeout_option
@pass_state
def serve(
    state: _State,
    host: str,
    port: int,
    token: str | None,
    jobs: int,
    allow_drafts: bool,
    no_watch: bool,
    clinic_id: str,
    timeout: float,
) -> None:
    """Start the handouts web app for this project.

    \b
    Front desk: find a topic, then open, print, download or personalise it (the
    patient's name is printed on the copy and kept nowhere); tick several topics
    for one packet PDF. Handouts come from the build output when it is up to date,
    else they are rendered on demand.
    Authors: Preview shows the pages and what 'handouts check' finds, and updates
    by itself within a second or two of saving any file.

    \b
    Examples:
      handouts serve --allow-drafts --clinic riverside-spine
      HANDOUTS_TOKEN=... handouts serve --host 0.0.0.0 --port 8080
    """
    from .commands.serve import serve as run

    run(state.project.root, host, port, token, jobs, timeout, allow_drafts, not no_watch, clinic_id)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; errors print as messages (never tracebacks) and exit with their code."""
    try:
        cli.main(args=argv, prog_name="handouts", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as error:
        click.echo("interrupted", err=True)
        sys.exit(exit_code(KeyboardInterrupt() if isinstance(error, click.exceptions.Abort) else error))
    except HandoutsError as error:
        message = str(error)
        if message:
            prefix = "" if error.diagnostics else click.style("error: ", fg="red")
            click.echo(prefix + message, err=True)
        sys.exit(exit_code(error))
