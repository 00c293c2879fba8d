"""The skeleton: the app builds from nothing, serves the home page, and reports errors properly."""

from __future__ import annotations

from market.app import create_app
from market.config import load_config, normalise_database_url


def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "404" in response.get_data(as_text=True)


def test_api_errors_are_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_defaults_need_no_environment(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "SEARCH_BACKEND", "PAYMENT_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)
    config = load_config({"INSTANCE_PATH": str(tmp_path)})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'jinshang.db'}"
    assert config["SEARCH_BACKEND"] == "whoosh"
    assert (tmp_path / "secret_key").read_text() == config["SECRET_KEY"]
    # the key is kept: a second start signs sessions with the same key
    assert load_config({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"] == config["SECRET_KEY"]
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_postgres_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
