"""Demand forecasting: seasonal naive, ETS and gradient boosting on lags, chosen by backtest."""
