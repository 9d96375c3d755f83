"""`make staff-user`: add a staff account, or set a new password for an existing one.

    python -m console.users --email anna@mileaestate.com [--role admin] [--name Anna]
The password is asked for (twice), or read from STAFF_USER_PASSWORD for scripts.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from console import schema
from console.accounts import AccountError, Accounts
from console.db import ConsoleDB
from console.settings import ConsoleSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--email", required=True)
    parser.add_argument("--role", choices=("staff", "admin"), default="staff")
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    password = os.environ.get("STAFF_USER_PASSWORD")
    if not password:
        password = getpass.getpass("Password (10+ characters): ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ: nothing changed", file=sys.stderr)
            return 1
    db = ConsoleDB(ConsoleSettings.from_env().database_url)
    schema.create(db)
    accounts = Accounts(db)
    try:
        if accounts.find(args.email):
            accounts.set_password(args.email, password)
            accounts.unlock(args.email)
            print(f"new password set for {args.email.strip().lower()}")
        else:
            user = accounts.create_user(args.email, password, args.role, args.name)
            print(f"added {user.email} ({user.role})")
    except AccountError as bad:
        print(f"not done: {bad}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
