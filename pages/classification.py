"""Placeholder until its issue lands."""
import streamlit as st

st.title("classification")
st.info("This page is being built.")
