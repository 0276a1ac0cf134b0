"""What a dossier waits for, on its page and on the home pages of its school; its timers fired or moved from the
page by those who steer it, with a reason and a confirmation."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from engine.models import AuditEvent, Timer

from follow_up_support import to_follow_up
from test_processes import ready


def page(browser, path: str) -> str:
    response = browser.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def timer(session, instance_id: int, element: str) -> tuple[str, str]:
    """Id and due time (as the page's hidden field gives it) of a timer of an instance."""
    task_id, due_at = session.execute(select(Timer.task_id, Timer.due_at).where(
        Timer.instance_id == instance_id, Timer.spec_id == element)).one()
    return task_id, due_at.isoformat()


def test_the_school_sees_what_its_dossier_waits_for_and_cannot_steer_it(browser, runtime, session):
    followed = to_follow_up(runtime, session)
    browser.login("tuteur.rennes")
    home = page(browser, "/")
    assert "Prochaines échéances de vos dossiers" in home
    assert "Prochain suivi mensuel : le 1er novembre 2027" in home
    assert "Point de mi-mission : le 30 janvier 2028" in home
    shown = page(browser, f"/dossiers/{followed.id}")
    assert "<li>Prochain suivi mensuel : le 1er novembre 2027</li>" in shown
    assert "Déclencher maintenant" not in shown
    task_id, due = timer(session, followed.id, "monthly_follow_up")
    refused = browser.post_form(f"/dossiers/{followed.id}/echeances/{task_id}/declenchement",
                                {"reason": "Commencer", "prevu": due}, page="/")
    assert refused.status_code == 403
    browser.logout()
    browser.login("gestionnaire.udogec35")
    assert "Prochaines échéances de vos dossiers" not in page(browser, "/"), "for the staff of schools"


def test_the_process_owner_fires_a_timer_after_a_confirmation(browser, runtime, session):
    followed = to_follow_up(runtime, session)
    task_id, due = timer(session, followed.id, "monthly_follow_up")
    browser.login("pilote")
    shown = page(browser, f"/dossiers/{followed.id}")
    assert "Déclencher maintenant" in shown and "Déplacer l'échéance" in shown
    path = f"/dossiers/{followed.id}/echeances/{task_id}/declenchement"
    asked = browser.post_form(path, {"reason": "Démonstration", "prevu": due}, page=f"/dossiers/{followed.id}")
    text = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "Déclencher cette échéance maintenant ?" in text
    assert "Prochain suivi mensuel : le 1er novembre 2027" in text and "Démonstration" in text
    assert ready(session, followed.id) == [], "nothing happens before the confirmation"
    done = browser.post_form(path, {"reason": "Démonstration", "prevu": due, "confirmation": "oui"},
                             page=f"/dossiers/{followed.id}")
    assert done.status_code == 302
    session.expire_all()
    assert [row.spec_id for row in ready(session, followed.id)] == ["record_follow_up"]
    shown = page(browser, f"/dossiers/{followed.id}")
    assert "L'échéance est déclenchée" in shown
    assert "Prochain suivi mensuel</strong> : le 1er décembre 2027" in shown
    assert "motif : Démonstration" in shown and "échéance déclenchée sans attendre par Bénédicte Laurent" in shown

    again = browser.post_form(path, {"reason": "Encore", "prevu": due, "confirmation": "oui"},
                              page=f"/dossiers/{followed.id}")
    assert again.status_code == 302, "a page left open on the occurrence that fired"
    assert "Cette échéance n'est plus en attente" in page(browser, f"/dossiers/{followed.id}")


def test_a_gestionnaire_moves_a_timer_and_a_reason_is_required(browser, runtime, session):
    followed = to_follow_up(runtime, session)
    task_id, due = timer(session, followed.id, "mid_mission_reached")
    browser.login("gestionnaire.udogec35")
    path = f"/dossiers/{followed.id}/echeances/{task_id}/deplacement"
    missing = browser.post_form(path, {"due_at": "2028-02-03T10:00", "reason": " ", "prevu": due},
                                page=f"/dossiers/{followed.id}")
    assert missing.status_code == 302
    assert "Indiquez le motif de ce déplacement." in page(browser, f"/dossiers/{followed.id}")
    moved = browser.post_form(path, {"due_at": "2028-02-03T10:00", "reason": "Vacances d'hiver", "prevu": due},
                              page=f"/dossiers/{followed.id}")
    assert moved.status_code == 302
    shown = page(browser, f"/dossiers/{followed.id}")
    assert "L'échéance est déplacée." in shown
    assert "Point de mi-mission</strong> : le 3 février 2028 à 10 h 00" in shown
    assert re.search(r"déplacée du 30 janvier 2028 à 9 h 00 au 3 février 2028 à 10 h 00 — motif : Vacances d'hiver",
                     shown)
    assert session.scalar(select(AuditEvent.kind).where(AuditEvent.kind == "timer_moved")) == "timer_moved"
    browser.logout()
    browser.login("gestionnaire.udogec29")
    other = browser.post_form(path, {"due_at": "2028-02-05T10:00", "reason": "Essai"}, page="/")
    assert other.status_code == 404, "another territory: as if the dossier did not exist"
