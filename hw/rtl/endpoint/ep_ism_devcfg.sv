`default_nettype none

// The virtio-ism device configuration's values (ism_config of hw/regs/ism_config.rdl, read-only to
// the driver): firmware writes one word at a time (fw_csr's devcfg_offset, devcfg_data, then
// devcfg_write) into the 64-bit registers; the other half keeps what was written before. Both ISM
// tops (PCI and virtio-mmio) drive their ism_config block from it.
module ep_ism_devcfg (
  input  wire logic                             clk_i,
  input  wire logic                             rst_ni,
  input  wire fw_csr_reg_pkg::fw_csr_reg2hw_t   fw_reg2hw_i,
  output ism_config_reg_pkg::ism_config_hw2reg_t devcfg_hw2reg_o
);

  logic [319:0]     devcfg_q;  // register i in bits 64*i+63:64*i
  logic [15:0]      devcfg_off;
  logic [4:0]       devcfg_hit;
  assign devcfg_off = fw_reg2hw_i.devcfg_offset.offset.q;
  always_comb begin
    for (int unsigned i = 0; i < 5; i++) devcfg_hit[i] = fw_reg2hw_i.devcfg_write.write.q && devcfg_off[15:3] == 13'(i);
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      devcfg_q <= '0;
    end else begin
      for (int unsigned i = 0; i < 5; i++) begin
        if (devcfg_hit[i]) begin
          if (devcfg_off[2]) devcfg_q[64*i+32+:32] <= fw_reg2hw_i.devcfg_data.data.q;
          else devcfg_q[64*i+:32] <= fw_reg2hw_i.devcfg_data.data.q;
        end
      end
    end
  end
  // Registers in offset order: cdid_lo, cdid_hi, devid, chunk_size, notify_size (8 bytes each).
  always_comb begin
    devcfg_hw2reg_o.cdid_lo.cdid_lo.d = devcfg_q[0+:64];
    devcfg_hw2reg_o.cdid_lo.cdid_lo.de = 1'b1;
    devcfg_hw2reg_o.cdid_hi.cdid_hi.d = devcfg_q[64+:64];
    devcfg_hw2reg_o.cdid_hi.cdid_hi.de = 1'b1;
    devcfg_hw2reg_o.devid.devid.d = devcfg_q[128+:64];
    devcfg_hw2reg_o.devid.devid.de = 1'b1;
    devcfg_hw2reg_o.chunk_size.chunk_size.d = devcfg_q[192+:64];
    devcfg_hw2reg_o.chunk_size.chunk_size.de = 1'b1;
    devcfg_hw2reg_o.notify_size.notify_size.d = devcfg_q[256+:64];
    devcfg_hw2reg_o.notify_size.notify_size.de = 1'b1;
  end

endmodule

`default_nettype wire
