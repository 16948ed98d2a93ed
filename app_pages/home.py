"""Home: what LLM Lab is, one card per page, a live table of models, and the primer's arc."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import i18n, ui
from components.catalog import CATALOG
from components.loading import availability, hub_reachable

t = ui.t
ui.bind_link("home", [])

st.title(t("home.title"))
st.markdown(t("home.intro"))

CARDS = [  # (page id, icon)
    ("generation", "✍️"), ("sentiment", "🙂"), ("classification", "🏷️"),
    ("embeddings", "🧭"), ("attention", "🔍"), ("lens", "🔬"),
]
for row in (CARDS[:3], CARDS[3:]):
    for col, (page_id, icon) in zip(st.columns(3), row):
        with col.container(border=True, height="stretch"):
            st.page_link(ui.PAGE_FILES[page_id], label=f"{icon} {t(f'home.cards.{page_id}.title')}")
            st.caption(t(f"home.cards.{page_id}.blurb"))

st.subheader(t("home.models.title"))
online = hub_reachable()
st.caption(t("home.models.online") if online else t("home.models.offline"))
STATUS = {"bundled": "bundled", "local directory": "local", "online (Hub)": "hub", "unavailable here": "unavailable"}  # i18n: ok (keys of availability())
TASKS = {"text-generation": "generation", "sentiment": "sentiment", "zero-shot": "zero_shot",
         "embeddings": "embeddings", "attention": "attention"}
rows = [
    {
        t("home.models.col.model"): ui.model_name(spec),
        t("home.models.col.status"): t(f"home.status.{STATUS.get(availability(spec), 'unavailable')}"),
        t("home.models.col.tasks"): ", ".join(t(f"home.task.{TASKS.get(task, 'attention')}") for task in spec.tasks),
        t("home.models.col.type"): t("home.models.causal") if spec.is_causal else t("home.models.encoder"),
        t("home.models.col.params"): f"{spec.params_m:g}",  # 135, 22.7: no trailing zeros
        t("home.models.col.size"): spec.size_mb,
        t("home.models.col.licence"): spec.licence,
        t("home.models.col.hub_id"): spec.hub_id or "",
        t("home.models.col.about"): i18n.model_about(spec, ui.lang()),
    }
    for spec in CATALOG
]
models = pd.DataFrame(rows)
if ui.presenter():  # a projector's width: the columns that tell the story
    models = models.drop(columns=[t("home.models.col.size"), t("home.models.col.licence"),
                                  t("home.models.col.hub_id")])
ui.data_table(models, "home_models", filename="llm-lab-models", static=True)

ui.explainer(t("home.arc.title"), t("home.arc.body"))
ui.publish_link("home", [], runnable=False)
