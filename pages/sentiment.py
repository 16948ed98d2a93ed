"""Placeholder until its issue lands."""
import streamlit as st

st.title("sentiment")
st.info("This page is being built.")
