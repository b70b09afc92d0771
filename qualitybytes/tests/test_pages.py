from django.test import override_settings


def test_an_unknown_page_renders_the_site_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"site-header" in response.content


@override_settings(DEBUG=False)
def test_the_500_page_is_self_contained(client, db):
    from qualitybytes.views import server_error

    response = server_error(None)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_pages_are_built_for_phone_width(client, db):
    html = client.get("/").content.decode()
    assert 'name="viewport" content="width=device-width' in html
    assert "/static/css/site.css" in html


def test_favicon_ico_points_at_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
