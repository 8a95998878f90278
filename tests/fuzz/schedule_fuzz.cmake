glint_fuzz(schedule_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/schedule_fuzz.cpp glint_schedule)
