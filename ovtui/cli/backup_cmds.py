"""`ovtui backup` and `ovtui restore`: the state directory to one archive and back.

Both work on the files (as root or the ovtui user), not through the API: backup while the engine
runs (the copy is consistent, see ovtui.store.backup), restore while no engine runs on the target.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ovtui.cli.connect import CliError
from ovtui.cli.output import print_json
from ovtui.config.errors import ConfigError
from ovtui.store.backup import restore_backup, take_backup
from ovtui.store.errors import StoreError


def _store_dir(args: argparse.Namespace) -> Path:
    from ovtui.config.load import load_config

    if args.store_dir:
        return Path(args.store_dir)
    try:
        engine = load_config(args.config).engine
    except ConfigError as exc:
        raise CliError(f"{exc}\n(or name the directory: --store-dir DIR)", 2) from None
    if engine.postgresql:
        raise CliError(
            "this engine's state is in PostgreSQL (engine.postgresql): back it up with the "
            "database's tools (pg_dump, or pg_basebackup with WAL archiving); README "
            '"Deployment"',
            2,
        )
    return engine.store_dir


def backup(args: argparse.Namespace) -> None:
    try:
        summary = take_backup(_store_dir(args), Path(args.archive))
    except StoreError as exc:
        raise CliError(f"backup not taken: {exc.message}", 1) from None
    except OSError as exc:
        raise CliError(f"backup not taken: {exc.filename}: {exc.strerror}", 1) from None
    if args.json:
        print_json(
            {
                "archive": str(summary.path),
                "files": summary.files,
                "schema_version": summary.schema_version,
                "audit_seq": summary.audit_seq,
            }
        )
        return
    size = sum(summary.files.values())
    print(
        f"backup {summary.path}: {len(summary.files)} files, {size} bytes, schema "
        f"{summary.schema_version}, audit trail up to seq {summary.audit_seq}"
    )


def _postgres(args: argparse.Namespace) -> str | None:
    from ovtui.config.load import load_config

    if args.store_dir:
        return None
    try:
        return load_config(args.config).engine.postgresql
    except ConfigError as exc:
        raise CliError(f"{exc}\n(or name the directory: --store-dir DIR)", 2) from None


def restore(args: argparse.Namespace) -> None:
    dsn = _postgres(args)
    target: Path | str
    try:
        if dsn:
            from ovtui.store.pg_database import describe
            from ovtui.store.pg_restore import restore_to_postgres

            target = describe(dsn)
            manifest = restore_to_postgres(Path(args.archive), dsn)
        else:
            target = _store_dir(args)
            manifest = restore_backup(Path(args.archive), target)
    except StoreError as exc:
        raise CliError(f"nothing restored: {exc.message}", 1) from None
    except OSError as exc:
        raise CliError(f"nothing restored: {exc.filename}: {exc.strerror}", 1) from None
    if args.json:
        print_json({"store_dir": str(target), **manifest})
        return
    print(
        f"restored {len(manifest['files'])} files into {target} (taken {manifest['created']} "
        f"by ovtui {manifest['ovtui_version']}, schema {manifest['schema_version']}); the "
        f"audit trail verifies up to seq {manifest['audit_seq']}. Start the engine on it."
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("backup", help="a consistent copy of the engine's state (engine may run)")
    p.add_argument("archive", help="the archive to write (.tar.gz; replaced atomically)")
    p.add_argument("--store-dir", help="the state directory (default: the config's store_dir)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=backup)
    p = sub.add_parser(
        "restore", help="put a backup into an empty state directory (or PostgreSQL database)"
    )
    p.add_argument("archive", help="an archive made by `ovtui backup`")
    p.add_argument("--store-dir", help="the state directory (default: the config's store_dir)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=restore)
