`default_nettype none

// The firmware event FIFO (EventFifo in the model): hardware pushes (kind, data) pairs, firmware
// sees the head and the fill level through fw_csr and drops the head with evt_pop. NP push ports,
// each held until granted; one push per clock, lowest port first. A push into a full FIFO is
// granted and lost, and raises overflow_o for one clock (fw_csr's evt_status.overflow is hwset).
module ep_event_fifo #(
  parameter int unsigned Depth = 64,  // entries, a power of two
  parameter int unsigned NP    = 2    // push ports
) (
  input  wire logic               clk_i,
  input  wire logic               rst_ni,
  input  wire logic [NP-1:0]      push_i,
  input  wire logic [8*NP-1:0]  push_kind_i,   // port i in bits 8*i+7:8*i
  input  wire logic [32*NP-1:0] push_data_i,   // port i in bits 32*i+31:32*i
  output logic [NP-1:0]           push_grant_o,
  input  wire logic               pop_i,
  output logic [15:0]             count_o,
  output logic [7:0]              head_kind_o,   // 0 (NONE) when empty
  output logic [31:0]             head_data_o,   // 0 when empty
  output logic                    overflow_o
);

  localparam int unsigned PtrW = $clog2(Depth);

  logic [40*Depth-1:0]    mem_q;  // entry i in bits 40*i+39:40*i
  logic [PtrW-1:0]        head_q, tail_q;
  logic [PtrW:0]          count_q, count_d;
  logic                   push, full, pop;
  logic [39:0]            push_entry;

  // Fixed priority: the lowest requesting port is granted.
  always_comb begin
    push_grant_o = '0;
    push_entry   = '0;
    for (int i = NP - 1; i >= 0; i--) begin
      if (push_i[i]) begin
        push_grant_o = '0;
        push_grant_o[i] = 1'b1;
        push_entry = {push_kind_i[8*i+:8], push_data_i[32*i+:32]};
      end
    end
  end

  assign full       = count_q == (PtrW + 1)'(Depth);
  assign pop        = pop_i && count_q != '0;
  assign push       = |push_i && (!full || pop);
  assign overflow_o = |push_i && full && !pop;

  always_comb begin
    count_d = count_q;
    if (push && !pop) count_d = count_q + 1'b1;
    if (pop && !push) count_d = count_q - 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      mem_q   <= '0;
      head_q  <= '0;
      tail_q  <= '0;
      count_q <= '0;
    end else begin
      if (push) begin
        mem_q[40*tail_q+:40] <= push_entry;
        tail_q        <= tail_q + 1'b1;
      end
      if (pop) head_q <= head_q + 1'b1;
      count_q <= count_d;
    end
  end

  assign count_o     = 16'(count_q);
  assign head_kind_o = count_q != '0 ? mem_q[40*head_q+32+:8] : 8'h0;
  assign head_data_o = count_q != '0 ? mem_q[40*head_q+:32] : 32'h0;

endmodule

`default_nettype wire
