"""The model side: reply parsing and script editing, the reply cache, web search."""
