"""Admin UI pages, run by ``st.navigation`` (not Streamlit's legacy ``pages/`` auto-discovery)."""
