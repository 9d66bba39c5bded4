"""``flask --app wsgi members import``: all or nothing, every bad row by its spreadsheet line."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Cooperative, Gender, Member, Role, Site


def _write(tmp_path, text: str):
    path = tmp_path / "members.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_creates_members_cooperatives_and_sites(runner, runtime, tmp_path):
    path = _write(tmp_path, (
        "phone,name,gender,cooperative,role,language,site,district\n"
        "0772123456,Sarah Nakato,f,Kitumbi Women Miners,chair,lg,Lujinji,Kassanda\n"
        "+256 701 000 002,Grace Achieng,female,  kitumbi   women miners ,,,,\n"
        "7.01000003E+08,Peter Okello,M,Busia Gold,treasurer,sw,Tiira,Busia\n"
    ))
    result = runner.invoke(args=["members", "import", path])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    with runtime.sessions() as db:
        members = {m.phone: m for m in db.scalars(select(Member))}
        assert set(members) == {"+256772123456", "+256701000002", "+256701000003"}
        grace = members["+256701000002"]
        assert grace.role is Role.MEMBER and grace.language is None and grace.gender is Gender.FEMALE
        assert members["+256772123456"].cooperative_id == grace.cooperative_id  # case and spaces ignored
        assert db.scalar(select(func.count()).select_from(Cooperative)) == 2
        assert {s.name for s in db.scalars(select(Site))} == {"Lujinji", "Tiira"}


def test_importing_an_existing_phone_updates_that_member(runner, runtime, tmp_path):
    header = "phone,name,gender,cooperative,role\n"
    runner.invoke(args=["members", "import", _write(tmp_path, header + "0772123456,Sarah,female,Kitumbi,member\n")])
    result = runner.invoke(args=["members", "import",
                                 _write(tmp_path, header + "256772123456,Sarah Nakato,female,Kitumbi,chair\n")])
    assert result.exit_code == 0 and "1 updated" in result.output
    with runtime.sessions() as db:
        (m,) = db.scalars(select(Member)).all()
        assert (m.name, m.role) == ("Sarah Nakato", Role.CHAIR)


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(runner, runtime, tmp_path):
    path = _write(tmp_path, (
        "phone,name,gender,cooperative,role,language\n"
        "0772123456,Sarah,female,Kitumbi,chair,lg\n"      # line 2: fine
        "12345,Amina,female,Kitumbi,,\n"                 # line 3: bad phone
        "0772000001,,woman,Kitumbi,boss,fr\n"            # line 4: name, gender, role, language
        "7.72E+11,Joyce,f,Kitumbi,,\n"                   # line 5: spreadsheet lost digits
        "0772123456,Sarah again,female,Kitumbi,,\n"      # line 6: same phone as line 2
        "0772000009,Rose,f,,,\n"                         # line 7: no cooperative
    ))
    result = runner.invoke(args=["members", "import", path])
    assert result.exit_code == 1
    out = result.output
    assert "Nothing was imported" in out
    assert "line 3:" in out and "not a" in out
    assert "line 4:" in out and "name is empty" in out and "gender" in out and "role" in out and "language" in out
    assert "line 5:" in out and "lost digits" in out
    assert "line 6:" in out and "line 2" in out
    assert "line 7:" in out and "cooperative is empty" in out
    assert "line 2:" not in out
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Member)) == 0
        assert db.scalar(select(func.count()).select_from(Cooperative)) == 0


def test_missing_required_columns_are_named(runner, tmp_path):
    result = runner.invoke(args=["members", "import", _write(tmp_path, "phone,name\n0772123456,Sarah\n")])
    assert result.exit_code == 1
    assert "gender" in result.output and "cooperative" in result.output


def test_demo_loads_into_an_empty_database_only(runner, runtime):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and "+256700000001" in first.output
    second = runner.invoke(args=["demo"])
    assert "not loaded" in second.output
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Member)) == 6


def test_bad_rows_after_a_blank_line_keep_their_spreadsheet_line_numbers(runner, tmp_path):
    path = _write(tmp_path, "phone,name,gender,cooperative\n0772123456,Sarah,f,Kitumbi\n\n12345,Amina,f,Kitumbi\n")
    result = runner.invoke(args=["members", "import", path])
    assert result.exit_code == 1 and "line 4:" in result.output
