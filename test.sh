#!/usr/bin/env bash
# Runs every test in the solution. Build warnings are errors (Directory.Build.props + -warnaserror).
set -euo pipefail
cd "$(dirname "$0")"
dotnet build TapPass.sln -warnaserror -nologo -v:minimal
dotnet test TapPass.sln --no-build -nologo -v:minimal "$@"
