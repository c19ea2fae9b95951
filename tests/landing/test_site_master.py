import pytest

from registry.landing import SiteMasterError, load_site_master


def test_load_normalises_codes_and_replaces_the_table(con, sites_csv, tmp_path):
    frame = load_site_master(con, sites_csv)
    assert list(frame["site_id"]) == ["US-001", "ES-001", "DE-001", "BR-001"]
    es = con.execute(
        "SELECT country, region, language, date_order, pain_scale, eq5d_version, loaded_at IS NOT NULL "
        "FROM landing.site_master WHERE site_id = 'ES-001'"
    ).fetchall()
    assert es == [("ES", "Western Europe", "es", "DMY", "VAS100", "5L", True)]
    smaller = tmp_path / "smaller.csv"
    smaller.write_text(sites_csv.read_text().splitlines()[0] + "\nMX-001,Hospital,MX,Latin America,es,DMY,NRS11,3L\n")
    load_site_master(con, smaller)
    assert con.execute("SELECT site_id FROM landing.site_master").fetchall() == [("MX-001",)]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("FR-001,Hôpital,FR,Europe,fr,DMY,NRS11,3L", "line 3 (site 'FR-001'): region"),
        ("FR-001,Hôpital,FRA,Western Europe,fr,DMY,NRS11,3L", "line 3 (site 'FR-001'): country"),
        ("FR-001,Hôpital,FR,Western Europe,xx,DMY,NRS11,3L", "language"),
        ("FR-001,Hôpital,FR,Western Europe,fr,DDMMYY,NRS11,3L", "date_order"),
        ("FR-001,Hôpital,FR,Western Europe,fr,DMY,VAS10,3L", "pain_scale"),
        ("FR-001,Hôpital,FR,Western Europe,fr,DMY,NRS11,4L", "eq5d_version"),
        ("FR/001,Hôpital,FR,Western Europe,fr,DMY,NRS11,3L", "site_id"),
        ("US-001,Again,US,United States,en,MDY,NRS11,3L", "line 3: site_id 'US-001' appears twice"),
    ],
)
def test_errors_name_the_csv_line(con, tmp_path, bad_line, message):
    path = tmp_path / "sites.csv"
    path.write_text(
        "site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version\n"
        "US-001,A,US,United States,en,MDY,NRS11,3L\n" + bad_line + "\n",
        encoding="utf-8",
    )
    with pytest.raises(SiteMasterError) as caught:
        load_site_master(con, path)
    assert str(caught.value).startswith("sites.csv line 3")
    assert message in str(caught.value)


def test_missing_column_is_named(con, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("site_id,site_name,country\nUS-001,A,US\n")
    with pytest.raises(SiteMasterError, match="missing column.*region"):
        load_site_master(con, path)
